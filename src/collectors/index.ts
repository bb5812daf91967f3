import type { CollectorDefinition } from './collector.ts';
import { loadCollector } from './load.ts';

/** Every collector, in the order `hostmeter collectors` lists them. */
export const COLLECTORS: readonly CollectorDefinition[] = [loadCollector];
