/** PostgreSQL repository of settings. */
import type { SettingsRepo } from '../repos/settings.js';
import { PgRepository } from './repository.js';

export class PgSettings extends PgRepository implements SettingsRepo {
  async getSetting(key: string): Promise<string | null> {
    const r = await this.one('SELECT value FROM settings WHERE key = ?', [key]);
    return r ? (r.value as string) : null;
  }
  async setSettingIfAbsent(key: string, value: string): Promise<string> {
    await this.run('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING', [key, value]);
    return (await this.getSetting(key))!;
  }
}
