// Regenerates src/virt/libvirt/constants.ts and codes.ts from the installed libvirt headers.
// Usage: node native/tools/gen-constants.mjs   (needs libvirt-dev)
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dir='/usr/include/libvirt/';
const src = fs.readdirSync(dir).filter(f=>f.endsWith('.h')).map(f=>fs.readFileSync(dir+f,'utf8')).join('\n');
// parse every typedef enum { ... } Name;
const enums = {}; const known = {};
const re = /typedef\s+enum\s*\{([\s\S]*?)\}\s*(\w+)\s*;/g;
let m;
// Two passes: enums may reference members of enums defined in a later header.
for (let pass = 0; pass < 2; pass++) { re.lastIndex = 0;
while ((m = re.exec(src))) {
  const body = m[1].replace(/\/\*[\s\S]*?\*\//g,'').replace(/#[^\n]*\n/g,'\n');
  const out = []; let next = 0;
  for (let part of body.split(',')) {
    part = part.trim(); if (!part) continue;
    const mm = /^(\w+)\s*(?:=\s*([\s\S]+))?$/.exec(part); if (!mm) continue;
    let v;
    if (mm[2]) { let e = mm[2].replace(/\b(VIR_\w+)\b/g,(x)=>known[x]!==undefined?String(known[x]):'NaN').replace(/U\b/g,'');
      try { v = eval(e); } catch { v = NaN } } else v = next;
    known[mm[1]] = v; next = v + 1; out.push([mm[1], v]);
  }
  enums[m[2]] = out;
}
}


const e = enums;
const flags = [
 ['DomainState','virDomainState','VIR_DOMAIN_'],
 ['DomainModificationImpact','virDomainModificationImpact','VIR_DOMAIN_AFFECT_'],
 ['DomainCreateFlags','virDomainCreateFlags','VIR_DOMAIN_'],
 ['DomainDefineFlags','virDomainDefineFlags','VIR_DOMAIN_DEFINE_'],
 ['DomainUndefineFlags','virDomainUndefineFlagsValues','VIR_DOMAIN_UNDEFINE_'],
 ['DomainXMLFlags','virDomainXMLFlags','VIR_DOMAIN_XML_'],
 ['ShutdownFlags','virDomainShutdownFlagValues','VIR_DOMAIN_SHUTDOWN_'],
 ['RebootFlags','virDomainRebootFlagValues','VIR_DOMAIN_REBOOT_'],
 ['DestroyFlags','virDomainDestroyFlagsValues','VIR_DOMAIN_DESTROY_'],
 ['SaveRestoreFlags','virDomainSaveRestoreFlags','VIR_DOMAIN_SAVE_'],
 ['VcpuFlags','virDomainVcpuFlags','VIR_DOMAIN_VCPU_'],
 ['MemoryModFlags','virDomainMemoryModFlags','VIR_DOMAIN_MEM_'],
 ['DomainDeviceModifyFlags','virDomainDeviceModifyFlags','VIR_DOMAIN_DEVICE_MODIFY_'],
 ['DomainMigrateFlags','virDomainMigrateFlags','VIR_MIGRATE_'],
 ['MigrateMaxSpeedFlags','virDomainMigrateMaxSpeedFlags','VIR_DOMAIN_MIGRATE_MAX_SPEED_'],
 ['DomainJobType','virDomainJobType','VIR_DOMAIN_JOB_'],
 ['DomainJobOperation','virDomainJobOperation','VIR_DOMAIN_JOB_OPERATION_'],
 ['GetJobStatsFlags','virDomainGetJobStatsFlags','VIR_DOMAIN_JOB_STATS_'],
 ['AbortJobFlags','virDomainAbortJobFlagsValues','VIR_DOMAIN_ABORT_JOB_'],
 ['BlockJobType','virDomainBlockJobType','VIR_DOMAIN_BLOCK_JOB_TYPE_'],
 ['BlockJobStatus','virConnectDomainEventBlockJobStatus','VIR_DOMAIN_BLOCK_JOB_'],
 ['BlockJobAbortFlags','virDomainBlockJobAbortFlags','VIR_DOMAIN_BLOCK_JOB_ABORT_'],
 ['BlockJobInfoFlags','virDomainBlockJobInfoFlags','VIR_DOMAIN_BLOCK_JOB_INFO_'],
 ['BlockPullFlags','virDomainBlockPullFlags','VIR_DOMAIN_BLOCK_PULL_'],
 ['BlockCopyFlags','virDomainBlockCopyFlags','VIR_DOMAIN_BLOCK_COPY_'],
 ['BlockCommitFlags','virDomainBlockCommitFlags','VIR_DOMAIN_BLOCK_COMMIT_'],
 ['BlockResizeFlags','virDomainBlockResizeFlags','VIR_DOMAIN_BLOCK_RESIZE_'],
 ['SnapshotCreateFlags','virDomainSnapshotCreateFlags','VIR_DOMAIN_SNAPSHOT_CREATE_'],
 ['SnapshotXMLFlags','virDomainSnapshotXMLFlags','VIR_DOMAIN_SNAPSHOT_XML_'],
 ['SnapshotListFlags','virDomainSnapshotListFlags','VIR_DOMAIN_SNAPSHOT_LIST_'],
 ['SnapshotRevertFlags','virDomainSnapshotRevertFlags','VIR_DOMAIN_SNAPSHOT_REVERT_'],
 ['SnapshotDeleteFlags','virDomainSnapshotDeleteFlags','VIR_DOMAIN_SNAPSHOT_DELETE_'],
 ['ListAllDomainsFlags','virConnectListAllDomainsFlags','VIR_CONNECT_LIST_DOMAINS_'],
 ['DomainStatsTypes','virDomainStatsTypes','VIR_DOMAIN_STATS_'],
 ['GetAllDomainStatsFlags','virConnectGetAllDomainStatsFlags','VIR_CONNECT_GET_ALL_DOMAINS_STATS_'],
 ['ConnectCloseReason','virConnectCloseReason','VIR_CONNECT_CLOSE_REASON_'],
 ['DomainEventType','virDomainEventType','VIR_DOMAIN_EVENT_'],
 ['StoragePoolState','virStoragePoolState','VIR_STORAGE_POOL_'],
 ['StoragePoolBuildFlags','virStoragePoolBuildFlags','VIR_STORAGE_POOL_BUILD_'],
 ['StoragePoolCreateFlags','virStoragePoolCreateFlags','VIR_STORAGE_POOL_CREATE_'],
 ['StoragePoolDefineFlags','virStoragePoolDefineFlags','VIR_STORAGE_POOL_DEFINE_'],
 ['StoragePoolDeleteFlags','virStoragePoolDeleteFlags','VIR_STORAGE_POOL_DELETE_'],
 ['ListAllStoragePoolsFlags','virConnectListAllStoragePoolsFlags','VIR_CONNECT_LIST_STORAGE_POOLS_'],
 ['StorageVolType','virStorageVolType','VIR_STORAGE_VOL_'],
 ['StorageVolCreateFlags','virStorageVolCreateFlags','VIR_STORAGE_VOL_CREATE_'],
 ['StorageVolDeleteFlags','virStorageVolDeleteFlags','VIR_STORAGE_VOL_DELETE_'],
 ['StorageVolResizeFlags','virStorageVolResizeFlags','VIR_STORAGE_VOL_RESIZE_'],
 ['StorageXMLFlags','virStorageXMLFlags','VIR_STORAGE_XML_'],
];
const strip = (n,p) => n.startsWith(p) ? n.slice(p.length) : n;
let out = `// GENERATED by native/tools/gen-constants.mjs from /usr/include/libvirt (libvirt 9.0.0) enum definitions; values are libvirt's ABI
// and never change, so they are safe to hard-code. Regenerate only to add newer libvirt values.
/* eslint-disable */\n\n`;
for (const [ts, en, pre] of flags) {
  const vals = e[en]; if (!vals) throw new Error(en);
  out += `/** ${en} */\nexport const ${ts} = {\n`;
  for (const [n,v] of vals) { if (/_LAST$/.test(n) || Number.isNaN(v)) continue; let k = strip(n,pre); if (/^\d/.test(k)) k = '_'+k; out += `  ${k}: ${v},\n`; }
  out += `} as const;\n\n`;
}
fs.writeFileSync(path.join(ROOT, 'src/virt/libvirt/constants.ts'), out);

// names tables
const table = (en, pre, lower) => { const o = {}; for (const [n,v] of e[en]) { if (/_LAST$/.test(n)) continue; if (o[v]===undefined) o[v] = lower ? strip(n,pre).toLowerCase() : n; } return o; };
const lit = o => '{\n' + Object.entries(o).map(([k,v])=>`  ${k}: '${v}',`).join('\n') + '\n}';
let c = `// GENERATED by native/tools/gen-constants.mjs from /usr/include/libvirt (libvirt 9.0.0): number -> stable name tables.\n// Callers match on these names (e.g. 'VIR_ERR_NO_DOMAIN'), never on messages.\n\n`;
c += `export const ERROR_CODE_NAMES: Readonly<Record<number, string>> = ${lit(table('virErrorNumber','',false))};\n\n`;
c += `export const ERROR_DOMAIN_NAMES: Readonly<Record<number, string>> = ${lit(table('virErrorDomain','',false))};\n\n`;
const evs = [['defined','virDomainEventDefinedDetailType','VIR_DOMAIN_EVENT_DEFINED_'],['undefined','virDomainEventUndefinedDetailType','VIR_DOMAIN_EVENT_UNDEFINED_'],['started','virDomainEventStartedDetailType','VIR_DOMAIN_EVENT_STARTED_'],['suspended','virDomainEventSuspendedDetailType','VIR_DOMAIN_EVENT_SUSPENDED_'],['resumed','virDomainEventResumedDetailType','VIR_DOMAIN_EVENT_RESUMED_'],['stopped','virDomainEventStoppedDetailType','VIR_DOMAIN_EVENT_STOPPED_'],['shutdown','virDomainEventShutdownDetailType','VIR_DOMAIN_EVENT_SHUTDOWN_'],['pmsuspended','virDomainEventPMSuspendedDetailType','VIR_DOMAIN_EVENT_PMSUSPENDED_'],['crashed','virDomainEventCrashedDetailType','VIR_DOMAIN_EVENT_CRASHED_']];
c += `/** virDomainEventType -> lower-case event name */\nexport const LIFECYCLE_EVENT_NAMES: Readonly<Record<number, string>> = ${lit(table('virDomainEventType','VIR_DOMAIN_EVENT_',true))};\n\n`;
c += `/** lifecycle event name -> (detail number -> lower-case detail name) */\nexport const LIFECYCLE_DETAIL_NAMES: Readonly<Record<string, Readonly<Record<number, string>>>> = {\n` + evs.map(([k,en,pre])=>`  ${k}: ${lit(table(en,pre,true)).replace(/\n/g,'\n  ')},`).join('\n') + `\n};\n\n`;
c += `/** virDomainState -> lower-case name */\nexport const DOMAIN_STATE_NAMES: Readonly<Record<number, string>> = ${lit(table('virDomainState','VIR_DOMAIN_',true))};\n\n`;
const rs = [[0,'virDomainNostateReason','VIR_DOMAIN_NOSTATE_'],[1,'virDomainRunningReason','VIR_DOMAIN_RUNNING_'],[2,'virDomainBlockedReason','VIR_DOMAIN_BLOCKED_'],[3,'virDomainPausedReason','VIR_DOMAIN_PAUSED_'],[4,'virDomainShutdownReason','VIR_DOMAIN_SHUTDOWN_'],[5,'virDomainShutoffReason','VIR_DOMAIN_SHUTOFF_'],[6,'virDomainCrashedReason','VIR_DOMAIN_CRASHED_'],[7,'virDomainPMSuspendedReason','VIR_DOMAIN_PMSUSPENDED_']];
c += `/** virDomainState -> (reason number -> lower-case reason name) */\nexport const DOMAIN_STATE_REASON_NAMES: Readonly<Record<number, Readonly<Record<number, string>>>> = {\n` + rs.map(([k,en,pre])=>`  ${k}: ${lit(table(en,pre,true)).replace(/\n/g,'\n  ')},`).join('\n') + `\n};\n\n`;
c += `export const BLOCK_JOB_TYPE_NAMES: Readonly<Record<number, string>> = ${lit(table('virDomainBlockJobType','VIR_DOMAIN_BLOCK_JOB_TYPE_',true))};\n\n`;
c += `export const BLOCK_JOB_STATUS_NAMES: Readonly<Record<number, string>> = ${lit(table('virConnectDomainEventBlockJobStatus','VIR_DOMAIN_BLOCK_JOB_',true))};\n\n`;
c += `export const CLOSE_REASON_NAMES: Readonly<Record<number, string>> = ${lit(table('virConnectCloseReason','VIR_CONNECT_CLOSE_REASON_',true))};\n`;
fs.writeFileSync(path.join(ROOT, 'src/virt/libvirt/codes.ts'), c);
