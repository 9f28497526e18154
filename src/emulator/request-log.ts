export interface LoggedRequest {
  method: string;
  /** path and query as received */
  url: string;
  status: number;
  service: 'webapi' | 'authority' | 'identity';
  /** the Authorization scheme's caller (systemuser id) for Web API requests, when known */
  userId?: string;
  /** when it arrived, epoch ms */
  at?: number;
}

/** The request log behind GET /_emulator/requests; bounded so long benchmarks do not grow it without end. */
export class RequestLog {
  private entries: LoggedRequest[] = [];

  constructor(private readonly limit = 100_000) {}

  add(entry: LoggedRequest): void {
    this.entries.push(entry);
    if (this.entries.length > this.limit) {
      this.entries.splice(0, this.entries.length - this.limit);
    }
  }

  list(): LoggedRequest[] {
    return this.entries.slice();
  }

  clear(): void {
    this.entries = [];
  }
}
