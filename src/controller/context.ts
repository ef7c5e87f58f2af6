import type { Policy } from './policy/policy.js';

/** Who is asking: derived from a validated token on every request and passed to every controller call. */
export interface RequestContext {
  requestId: string;
  userId: string;
  userName: string;
  projectId: string;
  projectName: string;
  domainId: string;
  roles: string[];
  /** the token's id (for revocation of the caller's own token) */
  tokenId: string;
  /** the controller's policy (its policy file over Nova's defaults); absent: Nova's defaults */
  policy?: Policy;
}

export const isAdmin = (ctx: RequestContext): boolean => ctx.roles.includes('admin');
/** OpenStack's admin_or_owner rule for a project's own records (quotas of another project, ...) */
export const isAdminOrOwner = (ctx: RequestContext, projectId: string): boolean => isAdmin(ctx) || ctx.projectId === projectId;
/** reader-only callers may look but not touch (Nova's default "project_reader" vs "project_member" rules) */
export const canWrite = (ctx: RequestContext): boolean => ctx.roles.includes('admin') || ctx.roles.includes('member');
