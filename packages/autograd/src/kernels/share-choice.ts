/**
 * @file Whether a product is worth sharing with the worker threads, decided by measuring both
 * ways. Two threads help on a quiet machine (1.7–1.8× one thread at n ≥ 512), but beside a process
 * that keeps the other core busy, three threads share two cores and a product waits for the
 * slower one: 0.5–0.8× one thread for n ≤ 512 (scripts/bench-threads.mjs --busy). So products are
 * grouped by size (within a factor of 2 in multiply-adds); for each group the time per
 * multiply-add of either way is kept, the faster way runs, and now and then one product runs the
 * other way, so that a change of the machine's load (the other core taken, or freed) is seen.
 * Imports nothing.
 */

/**
 * The other way is tried again once the group has spent this many times its last try's duration
 * the faster way, so trying costs at most 1/EXPLORE of the time. A try can cost far more than the
 * product's work: a worker that slept must wake, which beside a busy core can take a scheduler
 * slice (milliseconds) for a product of 0.1 ms.
 */
const EXPLORE = 25;

/**
 * A try counts as lasting at least this long, ms: after a band of a shared product a worker keeps
 * its core busy for a few milliseconds, watching for the next job (matmul.ts's SPIN), so trying to
 * share a product of 0.1 ms costs far more than 0.1 ms beside a busy core.
 */
const MIN_TRY_MS = 4;

/** Weight of the newest time in a group's moving average. */
const NEWEST = 0.3;

interface Group {
  /** ms per multiply-add, shared and alone; NaN until measured. */
  shared: number;
  alone: number;
  /** ms spent the faster way since the other way was last tried, and how long that try took. */
  spent: number;
  tried: number;
}

/** The measured choice between sharing a product with the worker threads and computing it alone. */
export class ShareChoice {
  private readonly groups = new Map<number, Group>();

  /** Whether to share a product of `work` multiply-adds: the faster way, and now and then the other. */
  share(work: number): boolean {
    const g = this.group(work);
    // the first product of a size is shared and the second computed alone (which costs little:
    // no worker to wake); from then on the faster way runs
    if (Number.isNaN(g.alone)) return Number.isNaN(g.shared);
    const faster = fasterShared(g);
    return g.spent >= EXPLORE * Math.max(g.tried, MIN_TRY_MS) ? !faster : faster;
  }

  /** Record that a product of `work` multiply-adds took `ms`, shared or alone. */
  record(work: number, shared: boolean, ms: number): void {
    const g = this.group(work);
    const cost = ms / work;
    let next: number;
    if (shared === fasterShared(g)) {
      // the faster way, which runs: a moving average
      const old = shared ? g.shared : g.alone;
      next = Number.isNaN(old) ? cost : old + NEWEST * (cost - old);
      g.spent += ms;
    } else {
      // a try of the other way replaces its figure, so that one try can reverse the choice when
      // the load has changed
      next = cost;
      g.spent = 0;
      g.tried = ms;
    }
    if (shared) g.shared = next;
    else g.alone = next;
  }

  private group(work: number): Group {
    const key = Math.round(Math.log2(work));
    let g = this.groups.get(key);
    if (g === undefined) {
      g = { shared: Number.NaN, alone: Number.NaN, spent: 0, tried: Number.NaN };
      this.groups.set(key, g);
    }
    return g;
  }
}

/** Whether sharing is the faster way so far (and until computing alone has been measured). */
function fasterShared(g: Group): boolean {
  return !(g.alone < g.shared);
}
