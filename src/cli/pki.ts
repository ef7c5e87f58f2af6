/**
 * The cluster's own certificate authority for the controller-agent RPC (mutual TLS, issue 17), made with the
 * openssl CLI at set-up: `novalet pki init` (CA + the controller's client certificate) and `novalet pki issue
 * --agent NAME --ip IP [--dns NAME]` (an agent's server certificate). ECDSA P-256, SHA-256; the CA lives 10 years,
 * leaf certificates 2 (re-issue with the same command). Files are 0600 and an existing file is never overwritten,
 * so running a command twice changes nothing.
 *
 *   DIR/ca.pem, ca-key.pem            the CA (keep ca-key.pem on the controller's machine only)
 *   DIR/controller.pem, -key.pem      client certificate (extendedKeyUsage clientAuth) the controller presents
 *   DIR/agent-NAME.pem, -key.pem      server certificate (serverAuth) with the agent's addresses as SANs
 */
import { chmodSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';

export interface AgentCertRequest { name: string; ips?: string[]; dns?: string[] }
export interface PkiFiles { ca: string; caKey: string; cert: string; key: string }

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

async function openssl(args: string[]): Promise<void> {
  await execa('openssl', args, { env: { LC_ALL: 'C' } });
}

async function newKey(file: string): Promise<void> {
  await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', file]);
  chmodSync(file, 0o600);
}

/** the CA and the controller's client certificate in `dir` (made when missing) */
export async function initPki(dir: string): Promise<{ ca: string; controller: PkiFiles }> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const ca = join(dir, 'ca.pem');
  const caKey = join(dir, 'ca-key.pem');
  if (!existsSync(ca)) {
    await newKey(caKey);
    await openssl(['req', '-x509', '-new', '-key', caKey, '-out', ca, '-days', '3650', '-subj', '/CN=novalet cluster CA',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  }
  const controller = await issue(dir, 'controller', '/CN=novalet-controller', 'clientAuth', []);
  return { ca, controller };
}

/** an agent's server certificate (made when missing); its SANs are the addresses the controller dials */
export async function issueAgentCert(dir: string, req: AgentCertRequest): Promise<PkiFiles> {
  if (!NAME.test(req.name)) throw new Error(`agent name ${JSON.stringify(req.name)}: letters, digits, '.', '_' and '-' only`);
  const sans = [...(req.ips ?? []).map((ip) => `IP:${ip}`), ...(req.dns ?? []).map((d) => `DNS:${d}`)];
  if (sans.length === 0) throw new Error('an agent certificate needs at least one --ip or --dns (the address the controller dials)');
  return issue(dir, `agent-${req.name}`, `/CN=${req.name}`, 'serverAuth', sans);
}

async function issue(dir: string, base: string, subject: string, usage: 'clientAuth' | 'serverAuth', sans: string[]): Promise<PkiFiles> {
  const ca = join(dir, 'ca.pem');
  const caKey = join(dir, 'ca-key.pem');
  if (!existsSync(ca) || !existsSync(caKey)) throw new Error(`${dir}: no CA here; run novalet pki init --dir ${dir} first`);
  const cert = join(dir, `${base}.pem`);
  const key = join(dir, `${base}-key.pem`);
  if (existsSync(cert) && existsSync(key)) return { ca, caKey, cert, key };
  await newKey(key);
  const csr = join(dir, `${base}.csr`);
  const ext = join(dir, `${base}.ext`);
  writeFileSync(ext, [
    'basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature,keyEncipherment', `extendedKeyUsage=${usage}`,
    ...(sans.length ? [`subjectAltName=${sans.join(',')}`] : []),
  ].join('\n') + '\n');
  try {
    await openssl(['req', '-new', '-key', key, '-out', csr, '-subj', subject]);
    await openssl(['x509', '-req', '-in', csr, '-CA', ca, '-CAkey', caKey, '-CAcreateserial', '-out', cert, '-days', '730', '-sha256', '-extfile', ext]);
  } finally {
    rmSync(csr, { force: true });
    rmSync(ext, { force: true });
  }
  chmodSync(cert, 0o644);
  return { ca, caKey, cert, key };
}
