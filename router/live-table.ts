/**
 * The routing table a gateway serves, kept current by polling the store's `current.json`
 * pointer. A new version is loaded and validated before it replaces the old one; requests in
 * flight keep the table they started with, so a reload drops nothing. A pointer that cannot be
 * loaded leaves the previous table in service.
 */
import type { ArtifactStore } from '../core/artifacts';
import { TableStore } from '../core/routing/store';
import type { RoutingTable } from '../schemas/generated/types';

export class LiveTable {
  private table: RoutingTable | null = null;
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;

  constructor(
    private readonly store: TableStore,
    private readonly onChange: (table: RoutingTable, previous: RoutingTable | null) => void,
    private readonly onError: (err: unknown) => void,
  ) {}

  static inDataDir(dataDir: string, artifacts: ArtifactStore, onChange: LiveTable['onChange'], onError: LiveTable['onError']): LiveTable {
    return new LiveTable(TableStore.inDataDir(dataDir, artifacts), onChange, onError);
  }

  get current(): RoutingTable | null {
    return this.table;
  }

  async start(pollMs: number): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), pollMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** One check of the pointer; overlapping calls share the check in progress. */
  refresh(): Promise<void> {
    this.refreshing ??= this.load().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  private async load(): Promise<void> {
    try {
      const record = await this.store.current();
      if (!record || record.version === this.table?.version) return;
      const next = await this.store.loadTable(record);
      const previous = this.table;
      this.table = next;
      this.onChange(next, previous);
    } catch (err) {
      this.onError(err);
    }
  }
}
