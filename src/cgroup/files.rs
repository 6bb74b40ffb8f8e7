//! Every cgroup file the reader reads, which hierarchy it lives in, and which files each
//! layout uses: the one list a reader that holds open file descriptors can be built from.

use super::layout::{Controller, Hierarchy, LayoutKind};

/// One file of a container's cgroup, named by what it is rather than by path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CgroupFile {
    /// v2 `cpu.stat`: usage, user, system (usec) and, with the cpu controller, throttling.
    CpuStatV2,
    /// v2 `cpu.max`: the CFS quota and period (usec).
    CpuMax,
    /// v2 `memory.current`.
    MemoryCurrent,
    /// v2 `memory.max`.
    MemoryMax,
    /// v2 `memory.stat`.
    MemoryStatV2,
    /// v2 `memory.events`: `low`, `high`, `max`, `oom`, `oom_kill`.
    MemoryEvents,
    /// v2 `memory.swap.current` (only with swap accounting).
    MemorySwapCurrent,
    /// v2 `pids.current`.
    PidsCurrentV2,
    /// v2 `pids.max`.
    PidsMaxV2,
    /// v2 `io.stat`.
    IoStat,
    /// `cpu.pressure` (v2, or the `unified` hierarchy of a hybrid host).
    CpuPressure,
    /// `memory.pressure`.
    MemoryPressure,
    /// `io.pressure`.
    IoPressure,
    /// v1 `cpuacct.usage` (ns).
    CpuacctUsage,
    /// v1 `cpuacct.usage_user` (ns, 4.7+).
    CpuacctUsageUser,
    /// v1 `cpuacct.usage_sys` (ns, 4.7+).
    CpuacctUsageSys,
    /// v1 `cpuacct.stat` (USER_HZ ticks), the fallback for user/system time.
    CpuacctStat,
    /// v1 cpu controller's `cpu.stat`: `nr_periods`, `nr_throttled`, `throttled_time` (ns).
    CpuStatV1,
    /// v1 `cpu.cfs_quota_us` (`-1` for no quota).
    CpuCfsQuotaUs,
    /// v1 `cpu.cfs_period_us`.
    CpuCfsPeriodUs,
    /// v1 `memory.usage_in_bytes`.
    MemoryUsageInBytes,
    /// v1 `memory.limit_in_bytes`.
    MemoryLimitInBytes,
    /// v1 `memory.stat`.
    MemoryStatV1,
    /// v1 `memory.oom_control` (`oom_kill` since 4.13).
    MemoryOomControl,
    /// v1 `memory.failcnt`.
    MemoryFailcnt,
    /// v1 `pids.current`.
    PidsCurrentV1,
    /// v1 `pids.max`.
    PidsMaxV1,
    /// v1 `blkio.throttle.io_service_bytes_recursive` (bytes, including descendants).
    BlkioServiceBytesRecursive,
    /// v1 `blkio.throttle.io_service_bytes`, when the recursive file is absent.
    BlkioServiceBytes,
    /// v1 `blkio.throttle.io_serviced_recursive` (operations).
    BlkioServicedRecursive,
    /// v1 `blkio.throttle.io_serviced`, when the recursive file is absent.
    BlkioServiced,
}

use CgroupFile::*;

/// The files read on a v2 host.
pub const V2_FILES: &[CgroupFile] = &[
    CpuStatV2,
    CpuMax,
    MemoryCurrent,
    MemoryMax,
    MemoryStatV2,
    MemoryEvents,
    MemorySwapCurrent,
    PidsCurrentV2,
    PidsMaxV2,
    IoStat,
    CpuPressure,
    MemoryPressure,
    IoPressure,
];

/// The files read on a v1 host.
pub const V1_FILES: &[CgroupFile] = &[
    CpuacctUsage,
    CpuacctUsageUser,
    CpuacctUsageSys,
    CpuacctStat,
    CpuStatV1,
    CpuCfsQuotaUs,
    CpuCfsPeriodUs,
    MemoryUsageInBytes,
    MemoryLimitInBytes,
    MemoryStatV1,
    MemoryOomControl,
    MemoryFailcnt,
    PidsCurrentV1,
    PidsMaxV1,
    BlkioServiceBytesRecursive,
    BlkioServiceBytes,
    BlkioServicedRecursive,
    BlkioServiced,
];

/// What a hybrid host adds from its `unified` hierarchy to the v1 files: only what v1 lacks.
pub const HYBRID_UNIFIED_FILES: &[CgroupFile] = &[CpuPressure, MemoryPressure, IoPressure];

impl CgroupFile {
    /// How many kinds of file there are (for tables indexed by [`index`](Self::index)).
    pub const COUNT: usize = BlkioServiced as usize + 1;

    /// A dense index, `0..COUNT`, for per-file tables.
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The file this one stands in for: read only when that one is absent. A reader that
    /// holds files open skips this one when the other is there.
    pub const fn fallback_for(self) -> Option<CgroupFile> {
        match self {
            CpuacctStat => Some(CpuacctUsageUser),
            BlkioServiceBytes => Some(BlkioServiceBytesRecursive),
            BlkioServiced => Some(BlkioServicedRecursive),
            _ => None,
        }
    }

    /// The file name inside the cgroup directory.
    pub const fn name(self) -> &'static str {
        match self {
            CpuStatV2 | CpuStatV1 => "cpu.stat",
            CpuMax => "cpu.max",
            CpuCfsQuotaUs => "cpu.cfs_quota_us",
            CpuCfsPeriodUs => "cpu.cfs_period_us",
            MemorySwapCurrent => "memory.swap.current",
            MemoryCurrent => "memory.current",
            MemoryMax => "memory.max",
            MemoryStatV2 | MemoryStatV1 => "memory.stat",
            MemoryEvents => "memory.events",
            PidsCurrentV2 | PidsCurrentV1 => "pids.current",
            PidsMaxV2 | PidsMaxV1 => "pids.max",
            IoStat => "io.stat",
            CpuPressure => "cpu.pressure",
            MemoryPressure => "memory.pressure",
            IoPressure => "io.pressure",
            CpuacctUsage => "cpuacct.usage",
            CpuacctUsageUser => "cpuacct.usage_user",
            CpuacctUsageSys => "cpuacct.usage_sys",
            CpuacctStat => "cpuacct.stat",
            MemoryUsageInBytes => "memory.usage_in_bytes",
            MemoryLimitInBytes => "memory.limit_in_bytes",
            MemoryOomControl => "memory.oom_control",
            MemoryFailcnt => "memory.failcnt",
            BlkioServiceBytesRecursive => "blkio.throttle.io_service_bytes_recursive",
            BlkioServiceBytes => "blkio.throttle.io_service_bytes",
            BlkioServicedRecursive => "blkio.throttle.io_serviced_recursive",
            BlkioServiced => "blkio.throttle.io_serviced",
        }
    }

    /// The hierarchy whose copy of the cgroup holds the file.
    pub const fn hierarchy(self) -> Hierarchy {
        match self {
            CpuStatV2 | CpuMax | MemoryCurrent | MemoryMax | MemoryStatV2 | MemoryEvents
            | MemorySwapCurrent | PidsCurrentV2 | PidsMaxV2 | IoStat | CpuPressure
            | MemoryPressure | IoPressure => Hierarchy::Unified,
            CpuacctUsage | CpuacctUsageUser | CpuacctUsageSys | CpuacctStat => {
                Hierarchy::V1(Controller::Cpuacct)
            }
            CpuStatV1 | CpuCfsQuotaUs | CpuCfsPeriodUs => Hierarchy::V1(Controller::Cpu),
            MemoryUsageInBytes | MemoryLimitInBytes | MemoryStatV1 | MemoryOomControl
            | MemoryFailcnt => Hierarchy::V1(Controller::Memory),
            PidsCurrentV1 | PidsMaxV1 => Hierarchy::V1(Controller::Pids),
            BlkioServiceBytesRecursive
            | BlkioServiceBytes
            | BlkioServicedRecursive
            | BlkioServiced => Hierarchy::V1(Controller::Blkio),
        }
    }

    /// The files a layout reads, in reading order (per-layout lists kept in one place).
    pub fn for_layout(kind: LayoutKind) -> impl Iterator<Item = CgroupFile> {
        let (main, extra): (&[CgroupFile], &[CgroupFile]) = match kind {
            LayoutKind::V2 => (V2_FILES, &[]),
            LayoutKind::V1 => (V1_FILES, &[]),
            LayoutKind::Hybrid => (V1_FILES, HYBRID_UNIFIED_FILES),
        };
        main.iter().chain(extra).copied()
    }
}

/// A set of [`CgroupFile`]s, one bit each: which files a held cgroup opens, or which a read
/// skips. `Copy` and allocation-free, for the hot path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct FileSet(u64);

impl FileSet {
    /// No file.
    pub const EMPTY: FileSet = FileSet(0);
    /// Every file.
    pub const ALL: FileSet = FileSet(u64::MAX >> (64 - CgroupFile::COUNT));

    /// The set of `files`.
    pub const fn of(files: &[CgroupFile]) -> FileSet {
        let mut bits = 0u64;
        let mut i = 0;
        while i < files.len() {
            bits |= 1 << files[i].index();
            i += 1;
        }
        FileSet(bits)
    }

    /// True when `file` is in the set.
    pub const fn contains(self, file: CgroupFile) -> bool {
        self.0 & (1 << file.index()) != 0
    }

    /// Both sets together.
    pub const fn union(self, other: FileSet) -> FileSet {
        FileSet(self.0 | other.0)
    }

    /// This set without the files of `other`.
    pub const fn minus(self, other: FileSet) -> FileSet {
        FileSet(self.0 & !other.0)
    }

    /// How many files the set holds.
    pub const fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    /// True when the set holds no file.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_match_hierarchies() {
        assert!(V2_FILES.iter().all(|f| f.hierarchy() == Hierarchy::Unified));
        assert!(V1_FILES.iter().all(|f| f.hierarchy() != Hierarchy::Unified));
        assert_eq!(
            CgroupFile::for_layout(LayoutKind::Hybrid).count(),
            V1_FILES.len() + 3
        );
        assert_eq!(BlkioServiced.name(), "blkio.throttle.io_serviced");
        let all: Vec<_> = V2_FILES.iter().chain(V1_FILES).collect();
        assert_eq!(all.len(), CgroupFile::COUNT);
        let mut seen = [false; CgroupFile::COUNT];
        for f in all {
            assert!(!std::mem::replace(&mut seen[f.index()], true));
        }
    }

    #[test]
    fn file_sets() {
        const _: () = assert!(CgroupFile::COUNT <= 64);
        let set = FileSet::of(&[MemoryMax, BlkioServiced]);
        assert!(set.contains(MemoryMax) && set.contains(BlkioServiced));
        assert!(!set.contains(MemoryCurrent));
        assert_eq!(set.len(), 2);
        assert_eq!(FileSet::ALL.len(), CgroupFile::COUNT);
        assert!(V1_FILES.iter().all(|f| FileSet::ALL.contains(*f)));
        assert_eq!(FileSet::ALL.minus(set).len(), CgroupFile::COUNT - 2);
        assert_eq!(FileSet::EMPTY.union(set), set);
        assert!(FileSet::EMPTY.is_empty());
    }
}
