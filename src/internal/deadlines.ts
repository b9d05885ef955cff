/**
 * Deadlines for many sessions with few distinct delays (the heartbeat's pingInterval,
 * pingTimeout...). Entries with the same delay are due in the order they were added, so
 * each delay keeps a FIFO list and one timer for its head: no Timeout object per session,
 * O(1) to add or cancel. This is what keeps a heartbeat cheap with 100k idle connections.
 */

/** What a session carries to sit in a deadline list (fields, not a closure). */
export interface DeadlineEntry {
  /** @internal */ dlQueue: DeadlineQueue | undefined;
  /** @internal */ dlPrev: DeadlineEntry | undefined;
  /** @internal */ dlNext: DeadlineEntry | undefined;
  /** @internal */ dlDue: number;
  /** Called when the entry's deadline passes (it has already left its list). */
  onDeadline(): void;
}

export class DeadlineQueue {
  private head: DeadlineEntry | undefined;
  private tail: DeadlineEntry | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(readonly delay: number) {}

  /** (Re)schedules `entry` for `delay` ms from now. */
  add(entry: DeadlineEntry): void {
    if (entry.dlQueue) entry.dlQueue.remove(entry);
    entry.dlQueue = this;
    // Whole milliseconds: a small integer is stored in the session itself, where a
    // fraction would take a 16-byte box per session. Rounded down, never later than the
    // exact time (`fire` already takes anything due within 1 ms as due).
    entry.dlDue = Math.floor(performance.now()) + this.delay;
    entry.dlNext = undefined;
    entry.dlPrev = this.tail;
    if (this.tail) this.tail.dlNext = entry;
    else this.head = entry;
    this.tail = entry;
    if (!this.timer) this.arm(entry.dlDue);
  }

  remove(entry: DeadlineEntry): void {
    if (entry.dlQueue !== this) return;
    if (entry.dlPrev) entry.dlPrev.dlNext = entry.dlNext;
    else this.head = entry.dlNext;
    if (entry.dlNext) entry.dlNext.dlPrev = entry.dlPrev;
    else this.tail = entry.dlPrev;
    entry.dlQueue = entry.dlPrev = entry.dlNext = undefined;
    if (!this.head && this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  private arm(due: number): void {
    this.timer = setTimeout(fire, Math.max(1, Math.ceil(due - performance.now())), this);
  }

  /** @internal */
  fire(): void {
    this.timer = undefined;
    const now = performance.now();
    let entry = this.head;
    // Timers may fire a little early or late; treat anything due within 1 ms as due.
    while (entry && entry.dlDue <= now + 1) {
      this.remove(entry);
      entry.onDeadline();
      entry = this.head;
    }
    if (this.head && !this.timer) this.arm(this.head.dlDue);
  }

  /** Number of entries (for tests and leak checks). */
  get size(): number {
    let n = 0;
    for (let e = this.head; e; e = e.dlNext) n++;
    return n;
  }
}

function fire(queue: DeadlineQueue): void {
  queue.fire();
}

const queues = new Map<number, DeadlineQueue>();

/** The process-wide list for `delay` ms, shared by every server using that delay. */
export function deadlinesFor(delay: number): DeadlineQueue {
  let queue = queues.get(delay);
  if (!queue) {
    queue = new DeadlineQueue(delay);
    queues.set(delay, queue);
  }
  return queue;
}
