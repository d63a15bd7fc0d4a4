//===- SNNSchemas.cpp - the ai.snn ONNX operator domain ---------------------===//
#include "compiler/Import/SNNSchemas.h"

#include <onnx/defs/schema.h>
#include <onnx/defs/shape_inference.h>

#include <mutex>

using namespace ONNX_NAMESPACE;

namespace {

const char *kDomain = "ai.snn";

OpSchema base(const char *name, const char *doc) {
  OpSchema s(name, __FILE__, __LINE__);
  s.SetDomain(kDomain).SinceVersion(1).SetDoc(doc).TypeConstraint(
      "T", {"tensor(float)"}, "Activations are float32.");
  return s;
}

/// The attributes of both feedback modules (Feedback, FeedbackRing).
OpSchema moduleAttrs(OpSchema s) {
  s.Attr("T", "time steps of the simulation", AttributeProto::INT)
      .Attr("threshold", "V_th (> 0)", AttributeProto::FLOAT, 2.0f)
      .Attr("leak", "LIF leak after reset, in (0, 1]; 1: IF",
            AttributeProto::FLOAT, 1.0f)
      .Attr("dropout", "rate of the module's dropout masks (one per "
            "connection)", AttributeProto::FLOAT, 0.0f)
      .Attr("solver", "broyden, fixed_point, official_iter or exact (a dense "
            "solve: tests, small modules)",
            AttributeProto::STRING, std::string("broyden"))
      .Attr("max_iterations", "solver steps at most", AttributeProto::INT,
            static_cast<int64_t>(30))
      .Attr("tolerance", "fixed_point: stop below this change",
            AttributeProto::FLOAT, 1e-6f);
  return s;
}


/// Output k has the element type and shape of input 0.
void sameAsInput(InferenceContext &ctx, size_t outputs) {
  for (size_t k = 0; k < outputs; ++k) {
    propagateElemTypeFromInputToOutput(ctx, 0, k);
    if (hasInputShape(ctx, 0))
      propagateShapeFromInputToOutput(ctx, 0, k);
  }
}

/// [B, ...] -> [T*B, ...]
void timeExpanded(InferenceContext &ctx, int64_t steps) {
  if (!hasInputShape(ctx, 0))
    return;
  const TensorShapeProto &in = getInputShape(ctx, 0);
  TensorShapeProto *out = getOutputShape(ctx, 0);
  for (int i = 0; i < in.dim_size(); ++i) {
    auto *d = out->add_dim();
    if (in.dim(i).has_dim_value())
      d->set_dim_value(i == 0 ? in.dim(i).dim_value() * steps
                              : in.dim(i).dim_value());
  }
}

void registerAll() {
  OpSchemaRegistry::DomainToVersionRange::Instance().AddDomainToVersion(
      kDomain, 1, 1);
  RegisterSchema(
      base("EncodeCurrent",
           "Repeats a real-valued input over T steps through the PSC kernel.")
          .Input(0, "x", "[B, ...]", "T")
          .Output(0, "a", "[T*B, ...]", "T")
          .Attr("T", "Number of time steps", AttributeProto::INT)
          .Attr("tau_s", "PSC time constant (>= 1; 1: the identity)", AttributeProto::FLOAT, 2.0f)
          .TypeAndShapeInferenceFunction([](InferenceContext &ctx) {
            propagateElemTypeFromInputToOutput(ctx, 0, 0);
            timeExpanded(ctx, getAttribute(ctx, "T", 1));
          }));
  RegisterSchema(
      base("EncodeEvents", "Binned events through the PSC kernel.")
          .Input(0, "s", "[T*B, ...] event counts", "T")
          .Output(0, "a", "[T*B, ...]", "T")
          .Attr("T", "Number of time steps (optional once known)",
                AttributeProto::INT, OPTIONAL_VALUE)
          .Attr("tau_s", "PSC time constant (>= 1; 1: the identity)", AttributeProto::FLOAT, 2.0f)
          .TypeAndShapeInferenceFunction(
              [](InferenceContext &ctx) { sameAsInput(ctx, 1); }));
  RegisterSchema(
      base("LIF", "Leaky integrate-and-fire neurons (NA_SPEC sections 1, 8).")
          .Input(0, "c", "synaptic input [T*B, ...]", "T")
          .Output(0, "potential", "pre-reset membrane potential", "T")
          .Output(1, "spikes", "0/1 spikes", "T")
          .Attr("tau_m", "membrane time constant (>= 1; 1: memoryless)",
                AttributeProto::FLOAT, 5.0f)
          .Attr("threshold", "firing threshold (> 0)", AttributeProto::FLOAT,
                1.0f)
          .Attr("reset", "after a spike: zero (u = 0) or subtract (u -= "
                "threshold)", AttributeProto::STRING, std::string("zero"))
          .TypeAndShapeInferenceFunction(
              [](InferenceContext &ctx) { sameAsInput(ctx, 2); }));
  RegisterSchema(
      base("IF", "Integrate-and-fire neurons, no leak (NA_SPEC section 8).")
          .Input(0, "c", "synaptic input [T*B, ...]", "T")
          .Output(0, "potential", "pre-reset membrane potential", "T")
          .Output(1, "spikes", "0/1 spikes", "T")
          .Attr("threshold", "firing threshold (> 0)", AttributeProto::FLOAT,
                1.0f)
          .Attr("reset", "after a spike: zero (u = 0) or subtract (u -= "
                "threshold)", AttributeProto::STRING, std::string("zero"))
          .TypeAndShapeInferenceFunction(
              [](InferenceContext &ctx) { sameAsInput(ctx, 2); }));
  RegisterSchema(
      base("FilteredBias", "c + b (1 - (1 - 1/tau_s)^(t+1)): a bias behind a "
                           "synapse (NIR CubaLIF), per channel (axis 1).")
          .Input(0, "c", "synaptic input [T*B, C, ...]", "T")
          .Input(1, "b", "bias [C]", "T")
          .Output(0, "y", "[T*B, C, ...]", "T")
          .Attr("tau_s", "the synapse's time constant in steps (>= 1)",
                AttributeProto::FLOAT, 1.0f)
          .TypeAndShapeInferenceFunction(
              [](InferenceContext &ctx) { sameAsInput(ctx, 1); }));
  RegisterSchema(
      base("PSC", "First-order post-synaptic current kernel.")
          .Input(0, "s", "spikes [T*B, ...]", "T")
          .Output(0, "a", "PSC [T*B, ...]", "T")
          .Attr("tau_s", "PSC time constant (>= 1; 1: the identity)", AttributeProto::FLOAT, 2.0f)
          .TypeAndShapeInferenceFunction(
              [](InferenceContext &ctx) { sameAsInput(ctx, 1); }));
  RegisterSchema(
      base("SumPool", "Scaled sum pooling of PSCs, stride = kernel.")
          .Input(0, "a", "[T*B, C, H, W]", "T")
          .Output(0, "p", "[T*B, C, H/kh, W/kw]", "T")
          .Attr("kernel_shape", "[kh, kw]", AttributeProto::INTS)
          .Attr("scale", "factor (> 0)", AttributeProto::FLOAT, 1.0f)
          .TypeAndShapeInferenceFunction([](InferenceContext &ctx) {
            propagateElemTypeFromInputToOutput(ctx, 0, 0);
            std::vector<int64_t> k;
            if (!getRepeatedAttribute(ctx, "kernel_shape", k) || k.size() != 2)
              fail_shape_inference("SumPool needs kernel_shape = [kh, kw]");
            if (k[0] < 1 || k[1] < 1)
              fail_shape_inference("SumPool kernel_shape entries must be >= 1");
            if (!hasInputShape(ctx, 0))
              return;
            const TensorShapeProto &in = getInputShape(ctx, 0);
            if (in.dim_size() != 4)
              fail_shape_inference("SumPool input must be [N, C, H, W]");
            TensorShapeProto *out = getOutputShape(ctx, 0);
            for (int i = 0; i < 4; ++i) {
              auto *d = out->add_dim();
              if (in.dim(i).has_dim_value())
                d->set_dim_value(i < 2 ? in.dim(i).dim_value()
                                       : in.dim(i).dim_value() / k[i - 2]);
            }
          }));
  RegisterSchema(
      OpSchema("TargetSpikes", __FILE__, __LINE__)
          .SetDomain(kDomain)
          .SinceVersion(1)
          .SetDoc("Desired spike trains: the label's neuron fires every step.")
          .Input(0, "labels", "[B] class indices", "tensor(int32)")
          .Output(0, "d", "[T*B, num_classes]", "tensor(float)")
          .Attr("T", "Number of time steps", AttributeProto::INT)
          .Attr("num_classes", "Output neurons", AttributeProto::INT)
          .TypeAndShapeInferenceFunction([](InferenceContext &ctx) {
            updateOutputElemType(ctx, 0, TensorProto::FLOAT);
            if (!hasInputShape(ctx, 0))
              return;
            const TensorShapeProto &in = getInputShape(ctx, 0);
            TensorShapeProto *out = getOutputShape(ctx, 0);
            auto *n = out->add_dim();
            if (in.dim_size() == 1 && in.dim(0).has_dim_value())
              n->set_dim_value(in.dim(0).dim_value() *
                               getAttribute(ctx, "T", 1));
            out->add_dim()->set_dim_value(getAttribute(ctx, "num_classes", 1));
          }));
  // The output has input 0's type and shape.
  auto likeInput0 = [](InferenceContext &ctx) {
    propagateElemTypeFromInputToOutput(ctx, 0, 0);
    if (hasInputShape(ctx, 0))
      propagateShapeFromInputToOutput(ctx, 0, 0);
  };
  RegisterSchema(
      base("SpectralNorm",
           "IDE's feedback weight: clamp(g, -1, 1) W / sigma, sigma from one "
           "power iteration on the buffers u, v per training step.")
          .Input(0, "W", "[out, in]", "tensor(float)")
          .Input(1, "g", "[1]", "tensor(float)")
          .Input(2, "u", "[out]", "tensor(float)")
          .Input(3, "v", "[in]", "tensor(float)")
          .Output(0, "W_eff", "[out, in]", "tensor(float)")
          .TypeAndShapeInferenceFunction(likeInput0));
  RegisterSchema(
      moduleAttrs(base("Feedback",
           "A single-layer feedback module (IDE): IF/LIF neurons with reset "
           "by subtraction on a constant current, feedback W s[t-1]; the "
           "(leak-weighted) average rate; trained by implicit "
           "differentiation on the equilibrium.")
          .Input(0, "c", "constant current [B, N], or images [B, C, H, W]",
                 "tensor(float)")
          .Input(1, "W", "feedback weight [N, N], or a kernel [C, C, KH, KW] "
                 "(stride 1, same padding)", "tensor(float)")
          .Output(0, "a", "rates [B, N] (N = C*H*W for images)",
                  "tensor(float)")
          ).TypeAndShapeInferenceFunction([](InferenceContext &ctx) {
            // [B, N] stays; images [B, C, H, W] give [B, C*H*W].
            propagateElemTypeFromInputToOutput(ctx, 0, 0);
            if (!hasInputShape(ctx, 0))
              return;
            const auto &in = getInputShape(ctx, 0);
            auto *out = getOutputShape(ctx, 0);
            if (in.dim_size() < 1)
              return;
            *out->add_dim() = in.dim(0);
            int64_t n = 1;
            for (int i = 1; i < in.dim_size(); ++i) {
              if (!in.dim(i).has_dim_value()) {
                out->add_dim();
                return;
              }
              n *= in.dim(i).dim_value();
            }
            out->add_dim()->set_dim_value(n);
          }));
  RegisterSchema(
      moduleAttrs(base("FeedbackRing",
           "A multi-layer feedback module (IDE, CIFARNet-F / AlexNet-F): L "
           "convolutional layers of IF/LIF neurons in a ring, each "
           "connection conv + bias + BatchNorm, the last layer fed back to "
           "the first by a transposed convolution one step later; the last "
           "layer's (leak-weighted) average rate; trained by implicit "
           "differentiation on the equilibrium.")
          .Input(0, "c", "constant current: images [B, C0, H0, W0]",
                 "tensor(float)")
          .Input(1, "W_fb", "feedback kernel [C_{L-1}, C0, K, K] (ConvTranspose "
                 "layout; stride: the product of the strides, padding (K-1)/2)",
                 "tensor(float)")
          .Input(2, "connections", "six per connection l = 1 .. L-1: kernel "
                 "[C_l, C_{l-1}, K, K] (odd K, padding (K-1)/2), conv bias, BN "
                 "scale, BN bias, running mean, running variance [C_l]",
                 "tensor(float)", OpSchema::Variadic)
          .Output(0, "a", "the last layer's rates [B, C*H*W]", "tensor(float)")
          .Attr("strides", "one stride per connection (default 1)",
                AttributeProto::INTS, OPTIONAL_VALUE)
          .Attr("jacobian", "eval (default): f's Jacobian at the rates with "
                "BatchNorm on the running statistics the simulation used; "
                "official: at f(rates) with the statistics f has moved, as "
                "the official code (IDE_SPEC section 10.4); train: f's own, "
                "training-mode BatchNorm (batch-coupled)",
                AttributeProto::STRING, std::string("eval"))
          ).TypeAndShapeInferenceFunction([](InferenceContext &ctx) {
            propagateElemTypeFromInputToOutput(ctx, 0, 0);
          }));
  RegisterSchema(
      base("CrossEntropyLoss",
           "Softmax cross-entropy of the output summed over time (spike "
           "counts, or logits when T = 1), mean over the batch; a scalar.")
          .Input(0, "a", "output [T*B, classes]", "tensor(float)")
          .Input(1, "labels", "[B] class indices", "tensor(int32)")
          .Output(0, "loss", "scalar", "tensor(float)")
          .TypeAndShapeInferenceFunction([](InferenceContext &ctx) {
            updateOutputElemType(ctx, 0, TensorProto::FLOAT);
            getOutputShape(ctx, 0);
          }));
  for (const char *loss : {"VanRossumLoss", "SpikeCountLoss"}) {
    OpSchema s = base(loss, "Spike-train loss; a scalar.");
    s.Input(0, "a", "output PSC [T*B, N]", "T")
        .Input(1, "d", "desired spikes [T*B, N]", "T")
        .Output(0, "loss", "scalar", "T")
        .TypeAndShapeInferenceFunction([](InferenceContext &ctx) {
          propagateElemTypeFromInputToOutput(ctx, 0, 0);
          getOutputShape(ctx, 0);
        });
    if (std::string(loss) == "VanRossumLoss")
      s.Attr("tau_s", "kernel time constant (> 1)", AttributeProto::FLOAT,
             2.0f);
    RegisterSchema(s);
  }
}

} // namespace

void snnc::onnx_schemas::registerSNNDomain() {
  static std::once_flag once;
  std::call_once(once, registerAll);
}
