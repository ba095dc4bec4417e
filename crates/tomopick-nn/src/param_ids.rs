//! Parameter ids in creation order. burn draws each parameter's id at random when a network is
//! made; the ids go into model files and key the optimizer's state, so two runs with the same
//! seed would write different bytes. Numbering them 1, 2, 3… in the network's own order makes
//! every model file a function of the seed. Batch-norm running statistics, whose ids a mapper
//! cannot change, take theirs from a per-thread counter that each network's construction
//! restarts ([`running_id`]).

use burn::module::{Module, ModuleMapper, Param, ParamId, RunningState};
use burn::prelude::*;
use std::cell::Cell;

/// Where running-statistics ids start: far above the parameters' 1, 2, 3….
const RUNNING_BASE: u64 = 1 << 40;

thread_local! {
    static RUNNING: Cell<u64> = const { Cell::new(RUNNING_BASE) };
}

/// Restarts the running-statistics ids; call before building a network.
pub(crate) fn restart() {
    RUNNING.with(|c| c.set(RUNNING_BASE));
}

/// A running statistic holding `value` with the next id of this thread's network.
pub(crate) fn running_state<const D: usize>(value: Tensor<D>) -> RunningState<Tensor<D>> {
    let id = RUNNING.with(|c| {
        let v = c.get();
        c.set(v + 1);
        v
    });
    RunningState::with_id(ParamId::from(id), value)
}

/// Renumbers every parameter of a module in visiting order.
#[derive(Default)]
struct Numbered(u64);

impl Numbered {
    fn next(&mut self) -> ParamId {
        self.0 += 1;
        ParamId::from(self.0)
    }
}

impl ModuleMapper for Numbered {
    // Only the id changes: the value stays lazy, so weights are drawn when and as burn would
    // have drawn them (the same initial weights as before the renumbering).
    fn map_float<const D: usize>(&mut self, mut param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        param.id = self.next();
        param
    }

    fn map_int<const D: usize>(
        &mut self,
        mut param: Param<Tensor<D, Int>>,
    ) -> Param<Tensor<D, Int>> {
        param.id = self.next();
        param
    }

    fn map_bool<const D: usize>(
        &mut self,
        mut param: Param<Tensor<D, Bool>>,
    ) -> Param<Tensor<D, Bool>> {
        param.id = self.next();
        param
    }
}

/// `net` with its parameters numbered 1, 2, 3… in visiting order.
pub(crate) fn numbered<M: Module>(net: M) -> M {
    net.map(&mut Numbered::default())
}
