/**
 * The admin password of a create, rebuild or evacuation (Nova's adminPass) goes to the agent with the spawn or
 * rebuild call, which writes it to the config drive's meta_data.json `admin_pass` (Nova's libvirt driver). It is
 * kept in clear on the task row only while the task runs (a re-drive after a crash sends it again); the row is
 * deleted when the task ends. It is never in the server's spec, its record, or a log.
 */
export function adminPassOf(params: { adminPass?: unknown }): { adminPass?: string } {
  return typeof params.adminPass === 'string' && params.adminPass ? { adminPass: params.adminPass } : {};
}
