/** Host aggregates (os-aggregates) and their hosts; availability zones are aggregates with that metadata key. */
import type { Aggregate } from '../types.js';

export interface AggregateRepo {
  /** null: the name is taken */
  createAggregate(a: { uuid: string; name: string; metadata: Record<string, string>; createdAt: string }): Promise<Aggregate | null>;
  getAggregate(id: number): Promise<Aggregate | null>;
  /** by id, each with its hosts */
  listAggregates(): Promise<Aggregate[]>;
  /** name and/or the whole metadata replaced; 'name_taken' changes nothing */
  updateAggregate(id: number, c: { name?: string; metadata?: Record<string, string> }, at: string): Promise<'ok' | 'not_found' | 'name_taken'>;
  /** only while it has no hosts (false: gone, or hosts remain) */
  deleteAggregate(id: number): Promise<boolean>;
  /** false: the host was already in it */
  addAggregateHost(id: number, host: string, at: string): Promise<boolean>;
  /** false: the host was not in it */
  removeAggregateHost(id: number, host: string, at: string): Promise<boolean>;
}
