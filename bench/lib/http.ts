/**
 * A small keep-alive HTTP client for the API suites (node:http; fetch adds its own overhead to every request,
 * which would be charged to the controller) and the timing helpers the suites share.
 */
import http from 'node:http';

export interface ApiResponse { status: number; headers: http.IncomingHttpHeaders; body: any; ms: number; }

export class Api {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  private readonly base: URL;
  token = '';

  constructor(url: string) { this.base = new URL(url); }

  /**
   * One request. A GET on a kept-alive socket the server closed meanwhile (idle timeout) fails with ECONNRESET /
   * "socket hang up" before anything was processed: it is sent once more on a fresh socket.
   */
  async request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse> {
    try {
      return await this.once(method, path, body, headers);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (method !== 'GET' || (code !== 'ECONNRESET' && code !== 'EPIPE')) throw err;
      return this.once(method, path, body, headers);
    }
  }

  private once(method: string, path: string, body: unknown, headers: Record<string, string>): Promise<ApiResponse> {
    const payload = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
    const h: Record<string, string> = {
      accept: 'application/json', ...(this.token ? { 'x-auth-token': this.token } : {}),
      ...(payload && !Buffer.isBuffer(body) ? { 'content-type': 'application/json' } : {}), ...headers,
    };
    if (payload) h['content-length'] = String(payload.length);
    const t0 = performance.now();
    return new Promise((resolve, reject) => {
      const req = http.request(new URL(path, this.base), { method, headers: h, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const ms = performance.now() - t0;
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try { parsed = text ? JSON.parse(text) : undefined; } catch { /* not JSON */ }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parsed, ms });
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      if (payload) req.write(payload);
      req.end();
    });
  }

  /** request that must answer `status`; returns the response */
  async expect(status: number, method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<ApiResponse> {
    const r = await this.request(method, path, body, headers);
    if (r.status !== status) throw new Error(`${method} ${path}: expected ${status}, got ${r.status} ${JSON.stringify(r.body).slice(0, 500)}`);
    return r;
  }

  close(): void { this.agent.destroy(); }
}

/** Runs `total` calls of fn with `concurrency` in flight; returns each call's result in completion order. */
export async function pool<T>(total: number, concurrency: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, async () => {
    for (let i = next++; i < total; i = next++) out.push(await fn(i));
  }));
  return out;
}

/** Polls `check` every `intervalMs` until it returns true; returns the elapsed ms, throws after timeoutMs. */
export async function until(check: () => Promise<boolean>, timeoutMs = 120_000, intervalMs = 5): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    if (await check()) return performance.now() - t0;
    if (performance.now() - t0 > timeoutMs) throw new Error(`condition not reached after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
