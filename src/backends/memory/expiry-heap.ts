/** What {@link ExpiryHeap} orders by: the expiry time a session had when it was queued. */
export interface Queued {
  queuedExpiryMs: number;
}

/**
 * A binary min-heap of sessions by expiry time. A renewal does not touch the
 * heap: the session surfaces at its old time and is queued again at its new
 * one, which keeps `set` O(1) and each pop O(log n).
 */
export class ExpiryHeap<Node extends Queued> {
  #nodes: Node[] = [];

  get size(): number {
    return this.#nodes.length;
  }

  push(node: Node): void {
    const nodes = this.#nodes;
    nodes.push(node);
    let i = nodes.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (nodes[parent]!.queuedExpiryMs <= node.queuedExpiryMs) break;
      nodes[i] = nodes[parent]!;
      i = parent;
    }
    nodes[i] = node;
  }

  peek(): Node | undefined {
    return this.#nodes[0];
  }

  pop(): Node | undefined {
    const nodes = this.#nodes;
    const top = nodes[0];
    const last = nodes.pop();
    if (top === undefined || last === undefined || nodes.length === 0) return top;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= nodes.length) break;
      const right = left + 1;
      const child = right < nodes.length && nodes[right]!.queuedExpiryMs < nodes[left]!.queuedExpiryMs ? right : left;
      if (nodes[child]!.queuedExpiryMs >= last.queuedExpiryMs) break;
      nodes[i] = nodes[child]!;
      i = child;
    }
    nodes[i] = last;
    return top;
  }

  /** Replaces the contents with `nodes` (used to drop removed sessions in one pass). */
  rebuild(nodes: Iterable<Node>): void {
    this.#nodes = [];
    for (const node of nodes) this.push(node);
  }
}
