import { procPath, readText } from '../io/host-files.ts';
import { parseMeminfo } from '../parse/meminfo.ts';
import { parseVmstat } from '../parse/vmstat.ts';
import { type CollectorDefinition, Observations, type ObservedMetricSpec } from './collector.ts';

export const MEMORY_METRICS = {
  usage: {
    name: 'system.memory.usage',
    kind: 'gauge',
    unit: 'By',
    description: 'Physical memory by state; used, free, buffers and cached sum to the total.',
    labels: ['system.memory.state'],
  },
  limit: {
    name: 'system.memory.limit',
    kind: 'gauge',
    unit: 'By',
    description: 'Physical memory usable by the kernel (MemTotal).',
    labels: [],
  },
  available: {
    name: 'system.memory.linux.available',
    kind: 'gauge',
    unit: 'By',
    description: 'Memory the kernel estimates is available for new work without swapping (MemAvailable).',
    labels: [],
    availability: 'on kernels that report MemAvailable (Linux 3.14 and later)',
  },
  shared: {
    name: 'system.memory.linux.shared',
    kind: 'gauge',
    unit: 'By',
    description: 'Memory used by tmpfs and shared anonymous mappings (Shmem), counted within cached.',
    labels: [],
  },
  pagingUsage: {
    name: 'system.paging.usage',
    kind: 'gauge',
    unit: 'By',
    description: 'Swap space used and free; both are zero when swap is off.',
    labels: ['system.paging.state'],
  },
  pagingOperations: {
    name: 'system.paging.operations',
    kind: 'counter',
    unit: '{operation}',
    description: 'Pages swapped in from or out to swap space since boot.',
    labels: ['system.paging.direction'],
  },
  pagingFaults: {
    name: 'system.paging.faults',
    kind: 'counter',
    unit: '{fault}',
    description: 'Page faults since boot; major faults needed to read the page from disk.',
    labels: ['system.paging.type'],
  },
} as const satisfies Record<string, ObservedMetricSpec>;

export const memoryCollector: CollectorDefinition = {
  name: 'memory',
  description: 'Memory usage by state, total, available, swap usage and paging',
  defaultEnabled: true,
  metrics: Object.values(MEMORY_METRICS),
  create: ({ paths }) => ({
    collect() {
      const mem = parseMeminfo(readText(procPath(paths, 'meminfo')));
      const vm = parseVmstat(readText(procPath(paths, 'vmstat')));
      const out = new Observations();
      // Reclaimable slab counts as cached (as free(1) does), so that used is memory the kernel cannot
      // give back. The fields are sampled at slightly different moments, hence the clamp.
      const cached = mem.cached + mem.sReclaimable;
      const used = Math.max(0, mem.memTotal - mem.memFree - mem.buffers - cached);
      const state = (name: string) => ({ 'system.memory.state': name });
      out.add(MEMORY_METRICS.usage, used, state('used'));
      out.add(MEMORY_METRICS.usage, mem.memFree, state('free'));
      out.add(MEMORY_METRICS.usage, mem.buffers, state('buffers'));
      out.add(MEMORY_METRICS.usage, cached, state('cached'));
      out.add(MEMORY_METRICS.limit, mem.memTotal);
      if (mem.memAvailable !== undefined) out.add(MEMORY_METRICS.available, mem.memAvailable);
      out.add(MEMORY_METRICS.shared, mem.shmem);
      out.add(MEMORY_METRICS.pagingUsage, mem.swapTotal - mem.swapFree, { 'system.paging.state': 'used' });
      out.add(MEMORY_METRICS.pagingUsage, mem.swapFree, { 'system.paging.state': 'free' });
      if (vm.swap !== undefined) {
        out.add(MEMORY_METRICS.pagingOperations, vm.swap.pagesIn, { 'system.paging.direction': 'in' });
        out.add(MEMORY_METRICS.pagingOperations, vm.swap.pagesOut, { 'system.paging.direction': 'out' });
      }
      if (vm.faults !== undefined) {
        // pgfault counts every fault, major ones included.
        const minor = Math.max(0, vm.faults.all - vm.faults.major);
        out.add(MEMORY_METRICS.pagingFaults, vm.faults.major, { 'system.paging.type': 'major' });
        out.add(MEMORY_METRICS.pagingFaults, minor, { 'system.paging.type': 'minor' });
      }
      return out;
    },
  }),
};
