/** The SYSPRO clients: e.net REST (sessions, business objects) and the OData reader. */
export * from './business-objects/common.js';
export * from './business-objects/comsfm.js';
export * from './business-objects/gentjl.js';
export * from './business-objects/invqry.js';
export * from './business-objects/sorqdn.js';
export * from './business-objects/sorqry.js';
export * from './business-objects/sortdn.js';
export * from './business-objects/sortoi.js';
export * from './business-objects/sortos.js';
export * from './enet-client.js';
export * from './errors.js';
export * from './odata-filter.js';
export * from './odata-reader.js';
export * from './outcome.js';
export * from './probe.js';
