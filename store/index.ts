/** The store's public surface: the interface, its records, the factory and its config schema. */
export * from './store.js';
export { openStore } from './open-store.js';
export { storeConfigSchema, type StoreConfig } from './store-config.js';
export { LeaseLostError, StoreError } from './store-error.js';
export { LockHeldError } from './lock-held-error.js';
export { newApprovalId, newIncidentId, newOperationId, newScheduleId } from './ids.js';
