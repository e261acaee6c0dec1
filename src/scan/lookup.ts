// Records come in through a lookup by (ecosystem, package name), so matching works the same
// over the node:sqlite database (`db.recordsFor`) and over records held in memory (tests,
// benchmarks). A lookup returns every record naming the package, withdrawn ones included:
// the matcher decides what counts.
import type { OsvRecord } from '../vulndb/osv.ts';

export type RecordLookup = (ecosystem: string, name: string) => readonly OsvRecord[];

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
