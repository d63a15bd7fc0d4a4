//===- Passes.td - neighborhood-selection strategies -----------*- tablegen -*-===//
#ifndef SNNC_COMPILER_NEIGHBORHOOD_PASSES_TD
#define SNNC_COMPILER_NEIGHBORHOOD_PASSES_TD

include "mlir/Pass/PassBase.td"

def NeighborhoodSNSPass : Pass<"snn-neighborhood-sns", "func::FuncOp"> {
  let summary = "Simple Neighborhood Selection: lower snn.na_backward {selection = \"sns\"} to a fused per-neuron loop nest";
  let description = [{
    The default strategy of the training pipeline's neighborhood slot
    (NA_SPEC section 3). Every `snn.na_backward` whose `selection` is `sns`
    becomes one loop nest per neuron, parallel over neurons: the PSC-error
    scan of eq. (7) (fused in when the error comes from an
    `snn.psc_error_scan` used only here), then for every perturbation time
    `p` the flip with the least perturbation, the re-simulation of the chain
    effect with the same input `c[t]` until the perturbed and original
    trajectories rejoin (then the rest is one multiply with the reverse scan
    `E`), the first-order loss change of eq. (13) and the scaling of eq. (17).

    With `window = w > 0` this is windowed SNS, the cheaper variant the
    paper suggests: the chain effect is followed for at most `w` steps after
    `p` (O(T w) instead of O(T^2)); after that the perturbed spike train is
    taken to equal the original one, so the rest is the same one multiply
    with `E` as after a rejoin. `selection` names the strategy whose
    `snn.na_backward` ops this instance lowers.
  }];
  let options = [
    Option<"window", "window", "int64_t", "0",
           "Follow the chain effect for at most this many steps (0: to T)">,
    Option<"selection", "selection", "std::string", "\"sns\"",
           "Lower the snn.na_backward ops whose selection is this name">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::bufferization::BufferizationDialect"];
}

def NeighborhoodPairsPass : Pass<"snn-neighborhood-pairs", "func::FuncOp"> {
  let summary = "Multi-neighbor selection aggregated by least squares, eq. (15)";
  let description = [{
    Lowers `snn.na_backward {selection = "pairs"}`. Every neuron gets 2T-1
    neighbors: the T single flips of SNS and the T-1 double flips at two
    neighboring steps p and p+1 (the second flip applied to the trajectory
    perturbed by the first, with the chain effect). Each neighbor k gives a
    perturbation vector eps_k = u_k [-] u (Algorithm 2: nonzero at the
    flipped steps), o_k = eps_k / |eps_k|, and the scaled finite difference
    f_k = e . (a_k - a) clip(1 / |eps_k|^3, -b, b) of eq. (17). The
    aggregated gradient is the least-squares solution of O grad = f
    (NA_SPEC section 4), computed from the normal equations, which are
    tridiagonal here (Thomas algorithm). With only the single flips this is
    SNS (O = I up to signs).
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::bufferization::BufferizationDialect"];
}

def NeighborhoodNormalizedSNSPass
    : Pass<"snn-neighborhood-normalized-sns", "func::FuncOp"> {
  let summary = "Normalized SNS (NA_SPEC section 9): the single-neuron experiment's aggregation";
  let description = [{
    Lowers `snn.na_backward {selection = "normalized-sns"}`: the flips and
    chain effects of SNS, each chain re-simulated to the end of the window,
    with the raw output error g = dL/da (recovered from the op's PSC error
    as g[t] = e[t] - ds e[t+1], or read from a fused scan) and

        delta[p] = sgn(theta - u[p]) (sum_t g[t] da_p[t]) / ||da_p||_2
                   / (|theta - u[p]| + 1),   da_p = a'_(p) - a.

    One neuron per parallel iteration, on the CPU and on the GPU.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::bufferization::BufferizationDialect"];
}

def VerifyNeighborhoodPass : Pass<"snn-verify-neighborhood", "ModuleOp"> {
  let summary = "Reject training graphs in which the neighborhood slot left an snn.na_backward";
  let description = [{
    Runs right after the neighborhood-selection slot. Every `snn.na_backward`
    must have been lowered by the strategy that its `selection` names; one
    that remains means that no strategy in the slot handles that name.
  }];
}

#endif
