import type { Inventory } from '../model/inventory.ts';

/** The `inspect --json` document: the inventory as is, under a versioned schema name. */
export const INVENTORY_SCHEMA = 'k3sguard/inventory@1';

export function inventoryJson(inv: Inventory): string {
  return `${JSON.stringify({ schema: INVENTORY_SCHEMA, ...inv }, null, 2)}\n`;
}
