// The fleet queries: the only place the query API and the dashboard read fleet data from, over
// either database. Each takes the database (or a transaction) and returns plain JSON-able data.
export { type ComponentQuery, type ComponentSearch, nodesWithComponentBelow, searchComponents } from './components.ts';
export { type DriftEvent, type DriftQuery, type DriftResult, driftEvents } from './drift.ts';
export { type NodeDetail, nodeDetail } from './node-detail.ts';
export { listNodes, type NodeFilter, type NodeSummary } from './nodes.ts';
export { type FleetOverview, fleetOverview } from './overview.ts';
export { DEFAULT_PAGE, type Page, type PageRequest } from './page.ts';
export { k3sVersionSpread, type VersionCount } from './versions.ts';
export {
  listVulnerabilities,
  type VulnerabilityDetail,
  type VulnerabilityFilter,
  type VulnerabilitySummary,
  vulnerabilityDetail,
} from './vulnerabilities.ts';
