/**
 * First-run identity: the Default domain, roles admin/member/reader, an `admin` project + user (role admin) and a
 * `demo` project + user (role member). Idempotent: passwords are reset to the given ones on every run.
 */
import type { IdentityService } from './service.js';

export interface BootstrapResult { adminUserId: string; adminProjectId: string; demoUserId: string; demoProjectId: string; }

export async function bootstrapIdentity(id: IdentityService, pw: { admin: string; demo: string }): Promise<BootstrapResult> {
  await id.ensureDomain('Default', 'default');
  for (const r of ['admin', 'member', 'reader']) await id.ensureRole(r);
  const adminProject = await id.ensureProject('admin', 'default', 'Administrators');
  const demoProject = await id.ensureProject('demo', 'default', 'Demo project');
  const admin = await id.ensureUser('admin', pw.admin, { defaultProjectId: adminProject.id });
  const demo = await id.ensureUser('demo', pw.demo, { defaultProjectId: demoProject.id });
  await id.grant(admin.id, adminProject.id, 'admin');
  await id.grant(demo.id, demoProject.id, 'member');
  return { adminUserId: admin.id, adminProjectId: adminProject.id, demoUserId: demo.id, demoProjectId: demoProject.id };
}
