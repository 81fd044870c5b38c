export * from './annotation.js';
export * from './errors.js';
export * from './header.js';
export * from './record.js';
export * from './signal.js';
export * from './database.js';
export * from './download.js';
