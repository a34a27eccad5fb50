//! In what order the copy stage loads: pure functions, unit-tested.
//!
//! Tables this tool creates get their foreign keys in `finalize`, so they
//! load in any order. An application's own tables enforce theirs during the
//! load: a child waits until its parents are loaded. A cycle cannot be
//! ordered; its tables load side by side and the operator is told.

use std::collections::HashSet;

/// For each table (by index), the tables it must wait for, given each
/// table's parents among the tables of this copy; and the tables whose
/// foreign keys form a cycle (they wait for nothing).
pub fn dependencies(parents: &[Vec<usize>]) -> (Vec<Vec<usize>>, Vec<usize>) {
    let mut deps = Vec::with_capacity(parents.len());
    let mut cyclic = Vec::new();
    for (i, d) in parents.iter().enumerate() {
        // Is `i` reachable from its own parents?
        let mut stack = d.clone();
        let mut seen = HashSet::new();
        let mut cycle = false;
        while let Some(n) = stack.pop() {
            if n == i {
                cycle = true;
                break;
            }
            if seen.insert(n) {
                stack.extend(parents[n].iter().copied());
            }
        }
        if cycle {
            cyclic.push(i);
            deps.push(Vec::new());
        } else {
            deps.push(d.clone());
        }
    }
    (deps, cyclic)
}

/// The order tables' jobs are queued in: largest first, so the long pole
/// starts early (ties keep the mapping's order). A table's chunks stay
/// together, so its keys can be built as soon as it is done.
pub fn largest_first(rows: &[u64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(rows[i]));
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_child_waits_for_its_parents_and_a_cycle_waits_for_nothing() {
        // 0 ← 1 ← 2 (2 needs 1, 1 needs 0); 3 ⇄ 4; 5 references itself.
        let parents = vec![vec![], vec![0], vec![1], vec![4], vec![3], vec![5]];
        let (deps, cyclic) = dependencies(&parents);
        assert_eq!(deps[1], vec![0]);
        assert_eq!(deps[2], vec![1]);
        assert!(deps[3].is_empty() && deps[4].is_empty() && deps[5].is_empty());
        assert_eq!(cyclic, vec![3, 4, 5]);
    }

    #[test]
    fn largest_tables_go_first_ties_in_mapping_order() {
        assert_eq!(largest_first(&[10, 500, 10, 70]), vec![1, 3, 0, 2]);
    }
}
