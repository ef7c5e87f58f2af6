/** Settings: small values the controller keeps across restarts (e.g. the token signing secret). */
export interface SettingsRepo {
  getSetting(key: string): Promise<string | null>;
  setSettingIfAbsent(key: string, value: string): Promise<string>;
}
