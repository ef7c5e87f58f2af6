/** SQLite repository of settings. */
import type { SettingsRepo } from '../repos/settings.js';
import { SqliteRepository } from './repository.js';
import type { Row } from './columns.js';

export class SqliteSettings extends SqliteRepository implements SettingsRepo {
  async getSetting(key: string): Promise<string | null> {
    const r = this.db.prepare('SELECT value FROM settings WHERE key = ?').get(key) as Row | undefined;
    return r ? (r.value as string) : null;
  }
  async setSettingIfAbsent(key: string, value: string): Promise<string> {
    this.db.prepare('INSERT OR IGNORE INTO settings (key, value) VALUES (?, ?)').run(key, value);
    return (await this.getSetting(key))!;
  }
}
