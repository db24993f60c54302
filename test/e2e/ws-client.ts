/** A small Node WebSocket client for the API, to test the protocol without the UI. */
import WebSocket from 'ws';
import type { WsMessage } from '../../src-main/api/contract';
import type { Served } from './serve';

type Event = Extract<WsMessage, { type: 'event' }>;
type ReplyMsg = Extract<WsMessage, { type: 'reply' }>;

export class ApiSocket {
  private nextId = 1;
  private readonly replies = new Map<number, (m: ReplyMsg) => void>();
  readonly events: Event[] = [];
  private readonly waiters: { pred: (e: Event) => boolean; ok: (e: Event) => void }[] = [];

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const m = JSON.parse(data.toString()) as WsMessage;
      if (m.type === 'reply') {
        if (typeof m.id === 'number') this.replies.get(m.id)?.(m);
        return;
      }
      this.events.push(m);
      for (const w of [...this.waiters]) {
        if (w.pred(m)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.ok(m);
        }
      }
    });
  }

  /** Opens a connection; rejects with the HTTP status when the server refuses the upgrade. */
  static open(served: Served, opts: { token?: string; origin?: string } = {}): Promise<ApiSocket> {
    const token = opts.token ?? served.token;
    const ws = new WebSocket(`${served.origin.replace('http', 'ws')}/ws?token=${encodeURIComponent(token)}`, {
      origin: opts.origin,
    });
    return new Promise((ok, fail) => {
      ws.once('open', () => ok(new ApiSocket(ws)));
      ws.once('unexpected-response', (_req, res) => fail(new Error(`HTTP ${res.statusCode}`)));
      ws.once('error', fail);
    });
  }

  call(channel: string, payload?: unknown): Promise<ReplyMsg> {
    const id = this.nextId++;
    return new Promise((ok) => {
      this.replies.set(id, ok);
      this.ws.send(JSON.stringify({ id, channel, payload }));
    });
  }

  sendRaw(text: string): void {
    this.ws.send(text);
  }

  nextEvent(pred: (e: Event) => boolean): Promise<Event> {
    const seen = this.events.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((ok) => this.waiters.push({ pred, ok }));
  }

  close(): void {
    this.ws.close();
  }
}
