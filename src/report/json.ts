import type { Inventory } from '../model/inventory.ts';

/** The `inspect --json` document: the inventory as is, under a versioned schema name. */
export const INVENTORY_SCHEMA = 'k3sguard/inventory@1';

function inventoryDocument(inv: Inventory): { schema: string } & Inventory {
  return { schema: INVENTORY_SCHEMA, ...inv };
}

export function inventoryJson(inv: Inventory): string {
  return `${JSON.stringify(inventoryDocument(inv), null, 2)}\n`;
}

/** `inspect --json` of several targets: an array of inventory documents, in the order named. */
export function inventoryListJson(inventories: readonly Inventory[]): string {
  return `${JSON.stringify(inventories.map(inventoryDocument), null, 2)}\n`;
}
