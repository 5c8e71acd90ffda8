/**
 * The published-table store in the data dir:
 *   routing/tables/versions/<version>.json   one PublishedTableRecord per version ever published
 *   routing/tables/current.json              the live version (swapped by rename: readers never see half a file)
 *   routing/tables/history.jsonl             publish and rollback events, oldest first
 * Table bodies are artifacts; records point at them, so a rollback only moves the pointer.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { ArtifactStore } from '../artifacts';
import { TypedError } from '../errors';
import { validate } from '../schemas';
import { writeFileAtomically } from '../atomic-file';
import type { PublishedTableRecord, RoutingTable } from '../../schemas/generated/types';

export type { PublishedTableRecord };

export interface HistoryEvent {
  event: 'publish' | 'rollback';
  version: string;
  previous: string | null;
  at: string;
}

export class TableStore {
  constructor(
    readonly root: string,
    private readonly artifacts: ArtifactStore,
  ) {}

  static inDataDir(dataDir: string, artifacts: ArtifactStore): TableStore {
    return new TableStore(path.join(dataDir, 'routing', 'tables'), artifacts);
  }

  get currentPath(): string {
    return path.join(this.root, 'current.json');
  }

  async current(): Promise<PublishedTableRecord | null> {
    return this.readRecord(this.currentPath);
  }

  async record(version: string): Promise<PublishedTableRecord | null> {
    if (!/^[\w.-]+$/.test(version)) throw new TypedError('InvalidRequest', `not a table version: ${JSON.stringify(version)}`);
    return this.readRecord(path.join(this.root, 'versions', `${version}.json`));
  }

  /** Every published version, oldest first. */
  async list(): Promise<PublishedTableRecord[]> {
    const names = await fs.readdir(path.join(this.root, 'versions')).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? [] : Promise.reject(err)));
    const records = await Promise.all(names.filter((n) => n.endsWith('.json')).map((n) => this.readRecord(path.join(this.root, 'versions', n))));
    return records.filter((r): r is PublishedTableRecord => r !== null).sort((a, b) => a.published_at.localeCompare(b.published_at));
  }

  async history(): Promise<HistoryEvent[]> {
    const text = await fs.readFile(path.join(this.root, 'history.jsonl'), 'utf8').catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? '' : Promise.reject(err)));
    return text
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as HistoryEvent);
  }

  async loadTable(record: Pick<PublishedTableRecord, 'table'>): Promise<RoutingTable> {
    return validate('RoutingTable', await this.artifacts.getJson(record.table));
  }

  /** Records the version and makes it current. Publishing the current version again changes nothing. */
  async publish(record: PublishedTableRecord): Promise<PublishedTableRecord> {
    validate('PublishedTableRecord', record);
    const previous = await this.current();
    if (previous?.version === record.version) return previous;
    const existing = await this.record(record.version);
    const stored = existing ?? record;
    if (!existing) await writeFileAtomically(path.join(this.root, 'versions', `${record.version}.json`), JSON.stringify(record, null, 2));
    await this.makeCurrent(stored, 'publish', previous);
    return stored;
  }

  /** Makes an earlier published version current again. */
  async rollback(version: string): Promise<PublishedTableRecord> {
    const record = await this.record(version);
    if (!record) throw new TypedError('InvalidRequest', `table version ${version} was never published here (see routing-table list)`);
    const previous = await this.current();
    if (previous?.version !== version) await this.makeCurrent(record, 'rollback', previous);
    return record;
  }

  private async makeCurrent(record: PublishedTableRecord, event: HistoryEvent['event'], previous: PublishedTableRecord | null): Promise<void> {
    await writeFileAtomically(this.currentPath, JSON.stringify(record, null, 2));
    const entry: HistoryEvent = { event, version: record.version, previous: previous?.version ?? null, at: new Date().toISOString() };
    await fs.appendFile(path.join(this.root, 'history.jsonl'), `${JSON.stringify(entry)}\n`);
  }

  private async readRecord(file: string): Promise<PublishedTableRecord | null> {
    try {
      return validate('PublishedTableRecord', JSON.parse(await fs.readFile(file, 'utf8')));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }
}
