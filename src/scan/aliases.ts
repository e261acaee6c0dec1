// One vulnerability, one finding: records that name each other (a GO- record listing its GHSA
// and CVE aliases, the GHSA record listing the CVE) are merged into one group, transitively.
// `related` ids are NOT merged: OSV uses them for similar but distinct vulnerabilities.

/** Display order: the Go vulndb's id first (what govulncheck and pkg.go.dev show), then GHSA, then CVE. */
export function idRank(id: string): number {
  if (id.startsWith('GO-')) return 0;
  if (id.startsWith('GHSA-')) return 1;
  if (id.startsWith('CVE-')) return 2;
  return 3;
}

export function compareIds(a: string, b: string): number {
  return idRank(a) - idRank(b) || (a < b ? -1 : a > b ? 1 : 0);
}

export interface AliasGroup<T> {
  /** The primary id: the first of `ids`, always one of the members' own ids. */
  id: string;
  /** Every id (own ids and aliases), primary first, then by idRank and text. */
  ids: string[];
  /** Members, the primary's record first. */
  members: T[];
}

/**
 * Groups items by the vulnerability their record describes. `idsOf` gives an item's own id
 * first, then its aliases. Items with the same own id are kept once (the first one).
 */
export function groupByAlias<T>(items: readonly T[], idsOf: (item: T) => readonly string[]): AliasGroup<T>[] {
  const parent = new Map<string, string>();
  const find = (x: string): string => {
    let root = x;
    while (parent.get(root) !== root) root = parent.get(root) ?? root;
    for (let at = x; at !== root; ) {
      const next = parent.get(at) as string;
      parent.set(at, root);
      at = next;
    }
    return root;
  };
  const unique = new Map<string, T>();
  for (const item of items) {
    const ids = idsOf(item);
    const own = ids[0];
    if (own === undefined || unique.has(own)) continue;
    unique.set(own, item);
    for (const id of ids) if (!parent.has(id)) parent.set(id, id);
    for (const id of ids.slice(1)) {
      const [ra, rb] = [find(own), find(id)];
      if (ra !== rb) parent.set(ra, rb);
    }
  }
  const groups = new Map<string, { ids: Set<string>; members: Array<{ own: string; item: T }> }>();
  for (const [own, item] of unique) {
    const root = find(own);
    let g = groups.get(root);
    if (!g) {
      g = { ids: new Set(), members: [] };
      groups.set(root, g);
    }
    for (const id of idsOf(item)) g.ids.add(id);
    g.members.push({ own, item });
  }
  const out: AliasGroup<T>[] = [];
  for (const g of groups.values()) {
    g.members.sort((a, b) => compareIds(a.own, b.own));
    const primary = (g.members[0] as { own: string }).own;
    const rest = [...g.ids].filter((id) => id !== primary).sort(compareIds);
    out.push({ id: primary, ids: [primary, ...rest], members: g.members.map((m) => m.item) });
  }
  return out.sort((a, b) => compareIds(a.id, b.id));
}
