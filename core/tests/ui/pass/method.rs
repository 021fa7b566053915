use rfm_perf_core::{get_performance_tracker, track_performance};

struct Grid {
    cells: Vec<u8>,
}

impl Grid {
    #[track_performance("grid.len")]
    fn len(&self) -> usize {
        self.cells.len()
    }

    #[track_performance("grid.push")]
    fn push(&mut self, v: u8) {
        self.cells.push(v);
    }

    #[track_performance("grid.into_cells")]
    fn into_cells(self) -> Vec<u8> {
        self.cells
    }

    #[track_performance("grid.new")]
    fn new() -> Self {
        Self { cells: Vec::new() }
    }
}

trait Area {
    fn area(&self) -> u32;
}

impl Area for Grid {
    #[track_performance("grid.area")]
    fn area(&self) -> u32 {
        self.cells.len() as u32
    }
}

fn main() {
    let mut g = Grid::new();
    g.push(1);
    g.push(2);
    assert_eq!(g.len(), 2);
    assert_eq!(g.area(), 2);
    assert_eq!(g.into_cells(), vec![1, 2]);
    let calls = |n: &str| get_performance_tracker().scope_stat(n).map_or(0, |s| s.calls);
    assert_eq!(calls("grid.new"), 1);
    assert_eq!(calls("grid.push"), 2);
    assert_eq!(calls("grid.len"), 1);
    assert_eq!(calls("grid.area"), 1);
    assert_eq!(calls("grid.into_cells"), 1);
}
