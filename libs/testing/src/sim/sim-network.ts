import type { NodeId } from '@flotilla/raft';
import type { FaultProfile } from './fault-profile';
import type { SeededRandom } from './seeded-random';

/**
 * The simulated network: decides, for each message, whether it is lost, duplicated and how
 * long each copy travels, and which directed links are cut. A cut link drops messages both
 * when they are sent and when they would be delivered (in-flight messages die with the link).
 *
 * Links are cut by named partitions, so overlapping faults (a split plus a one-way cut) heal
 * independently.
 */
export class SimNetwork {
  /** partition id → directed links "from→to" it cuts. */
  private readonly cuts = new Map<number, Set<string>>();
  private readonly cutCount = new Map<string, number>();
  private nextPartitionId = 1;

  constructor(
    private readonly random: SeededRandom,
    private profile: FaultProfile,
  ) {}

  setProfile(profile: FaultProfile): void {
    this.profile = profile;
  }

  /** Delivery delays for one message: `[]` if lost, two entries if duplicated. */
  route(from: NodeId, to: NodeId): number[] {
    if (this.isCut(from, to)) return [];
    const p = this.profile;
    if (this.random.chance(p.dropRate)) return [];
    const delays = [this.delay()];
    if (this.random.chance(p.duplicateRate)) delays.push(this.delay());
    return delays;
  }

  private delay(): number {
    const p = this.profile;
    if (p.longDelayMax > 0 && this.random.chance(p.longDelayRate)) return this.random.range(p.maxDelay, p.longDelayMax);
    return this.random.range(p.minDelay, p.maxDelay);
  }

  isCut(from: NodeId, to: NodeId): boolean {
    if (this.cutCount.size === 0) return false;
    return (this.cutCount.get(`${from}→${to}`) ?? 0) > 0;
  }

  /** Cuts every link from a node in `a` to a node in `b` (one-way); returns the partition id. */
  cutOneWay(a: readonly NodeId[], b: readonly NodeId[]): number {
    const links = new Set<string>();
    for (const x of a) for (const y of b) if (x !== y) links.add(`${x}→${y}`);
    return this.addCut(links);
  }

  /** Cuts both directions between the two sides; returns the partition id. */
  cutBothWays(a: readonly NodeId[], b: readonly NodeId[]): number {
    const links = new Set<string>();
    for (const x of a)
      for (const y of b)
        if (x !== y) {
          links.add(`${x}→${y}`);
          links.add(`${y}→${x}`);
        }
    return this.addCut(links);
  }

  heal(partitionId: number): void {
    const links = this.cuts.get(partitionId);
    if (!links) return;
    this.cuts.delete(partitionId);
    for (const l of links) {
      const n = (this.cutCount.get(l) ?? 1) - 1;
      if (n <= 0) this.cutCount.delete(l);
      else this.cutCount.set(l, n);
    }
  }

  healAll(): void {
    this.cuts.clear();
    this.cutCount.clear();
  }

  /** Human-readable list of cut links, for failure reports. */
  describeCuts(): string {
    return [...this.cutCount.keys()].sort().join(' ');
  }

  private addCut(links: Set<string>): number {
    const id = this.nextPartitionId++;
    this.cuts.set(id, links);
    for (const l of links) this.cutCount.set(l, (this.cutCount.get(l) ?? 0) + 1);
    return id;
  }
}
