// Records come in through a lookup by (ecosystem, package name), so matching works the same
// over the node:sqlite database (`db.recordsFor`) and over records held in memory (tests,
// benchmarks). A lookup returns every record naming the package, withdrawn ones included:
// the matcher decides what counts.
import type { OsvRecord } from '../vulndb/osv.ts';
import { recordIds } from './records.ts';

export type RecordLookup = (ecosystem: string, name: string) => readonly OsvRecord[];

/**
 * The records of one vulnerability known by `ids`: each id's own record, and every record that
 * names one of them as an alias (both ways, transitively), whatever packages they name.
 */
export type AliasLookup = (ids: readonly string[]) => readonly OsvRecord[];

/** An in-memory lookup over `records`, indexed once by every (ecosystem, name) they affect. */
export function lookupFromRecords(records: Iterable<OsvRecord>): RecordLookup {
  const index = new Map<string, OsvRecord[]>();
  for (const record of records) {
    const keys = new Set(
      (record.affected ?? []).flatMap((a) => (a.package ? [`${a.package.ecosystem}\0${a.package.name}`] : [])),
    );
    for (const key of keys) {
      const list = index.get(key);
      if (list) list.push(record);
      else index.set(key, [record]);
    }
  }
  return (ecosystem, name) => index.get(`${ecosystem}\0${name}`) ?? [];
}

/** An in-memory AliasLookup over `records`, joined as aliases.ts joins them (recordIds). */
export function aliasLookupFromRecords(records: Iterable<OsvRecord>): AliasLookup {
  const byId = new Map<string, OsvRecord[]>();
  for (const record of records)
    for (const id of recordIds(record)) {
      const list = byId.get(id);
      if (list) list.push(record);
      else byId.set(id, [record]);
    }
  return (ids) => {
    const out = new Set<OsvRecord>();
    const seen = new Set<string>();
    const queue = [...ids];
    while (queue.length > 0) {
      const id = queue.pop() as string;
      if (seen.has(id)) continue;
      seen.add(id);
      for (const r of byId.get(id) ?? []) {
        if (out.has(r)) continue;
        out.add(r);
        queue.push(...recordIds(r));
      }
    }
    return [...out];
  };
}
