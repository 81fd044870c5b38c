export * from './beatWindow.js';
export * from './biquad.js';
export * from './ecgFilter.js';
export * from './frontEnd.js';
export * from './resampler.js';
export * from './rpeak.js';
export * from './signalQuality.js';
export * from './vfDetector.js';
