/** A node of {@link ExpiryHeap}: stale once its entry has moved on (re-set or removed). */
export interface HeapNode<Entry> {
  key: string;
  entry: Entry;
  expiresAtMs: number;
}

/**
 * A binary min-heap of sessions by expiry time. Nodes are never updated in
 * place: a renewed session pushes a new node and the old one is skipped as
 * stale when it surfaces, which keeps every operation O(log n).
 */
export class ExpiryHeap<Entry> {
  #nodes: HeapNode<Entry>[] = [];

  get size(): number {
    return this.#nodes.length;
  }

  push(node: HeapNode<Entry>): void {
    const nodes = this.#nodes;
    nodes.push(node);
    let i = nodes.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (nodes[parent]!.expiresAtMs <= node.expiresAtMs) break;
      nodes[i] = nodes[parent]!;
      i = parent;
    }
    nodes[i] = node;
  }

  peek(): HeapNode<Entry> | undefined {
    return this.#nodes[0];
  }

  pop(): HeapNode<Entry> | undefined {
    const nodes = this.#nodes;
    const top = nodes[0];
    const last = nodes.pop();
    if (top === undefined || last === undefined || nodes.length === 0) return top;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= nodes.length) break;
      const right = left + 1;
      const child = right < nodes.length && nodes[right]!.expiresAtMs < nodes[left]!.expiresAtMs ? right : left;
      if (nodes[child]!.expiresAtMs >= last.expiresAtMs) break;
      nodes[i] = nodes[child]!;
      i = child;
    }
    nodes[i] = last;
    return top;
  }

  /** Replaces the contents with `nodes` (used to drop stale nodes in one pass). */
  rebuild(nodes: HeapNode<Entry>[]): void {
    this.#nodes = [];
    for (const node of nodes) this.push(node);
  }
}
