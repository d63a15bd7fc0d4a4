//===- ImporterTest.cpp - ONNX import: examples and malformed models -------===//
#include "compiler/Import/ONNXImporter.h"
#include "dialects/SNN/IR/SNNOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"

#include <gtest/gtest.h>

#include <map>

#include <dirent.h>
#include <fstream>
#include <sstream>
#include <string>

using namespace mlir;

namespace {

std::string readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class ImporterTest : public ::testing::Test {
protected:
  ImporterTest() {
    ctx.loadDialect<snn::SNNDialect, func::FuncDialect, tensor::TensorDialect>();
  }
  /// Imports and returns the error ("" on success).
  std::string importError(const std::string &bytes, bool text = true) {
    std::string error, diagnostics;
    ScopedDiagnosticHandler handler(&ctx, [&](Diagnostic &d) {
      diagnostics += d.str();
      return success();
    });
    auto module = snn::importONNX(bytes, text, ctx, error);
    if (module)
      return "";
    return error.empty() ? "(no message) " + diagnostics : error;
  }
  MLIRContext ctx;
};

/// A small valid MLP; each malformed case edits one piece of it.
struct MLP {
  std::string header = R"(<ir_version: 8, opset_import: ["" : 13, "ai.snn" : 1]>)";
  std::string inputs =
      "float[4, 6] x, int32[4] labels, float[5, 6] w1, float[3, 5] w2";
  std::string outputs = "float loss, float[8, 3] spikes";
  std::string initializers;
  std::string encode = "a0 = ai.snn.EncodeCurrent <T = 2, tau_s = 2.0> (x)";
  std::string dense1 = "c1 = Gemm <transB = 1> (a0, w1)";
  std::string lif1 = "u1, s1 = ai.snn.LIF <tau_m = 5.0, threshold = 1.0> (c1)";
  std::string psc1 = "a1 = ai.snn.PSC <tau_s = 2.0> (s1)";
  std::string dense2 = "c2 = Gemm <transB = 1> (a1, w2)";
  std::string lif2 = "u2, spikes = ai.snn.LIF (c2)";
  std::string psc2 = "a2 = ai.snn.PSC (spikes)";
  std::string target = "d = ai.snn.TargetSpikes <T = 2, num_classes = 3> (labels)";
  std::string loss = "loss = ai.snn.VanRossumLoss (a2, d)";
  std::string text() const {
    return header + "\nmlp (" + inputs + ") => (" + outputs + ")\n" +
           initializers + "\n{\n" +
           encode + "\n" + dense1 + "\n" + lif1 + "\n" + psc1 + "\n" + dense2 +
           "\n" + lif2 + "\n" + psc2 + "\n" + target + "\n" + loss + "\n}\n";
  }
};

TEST_F(ImporterTest, ValidModelImports) {
  EXPECT_EQ(importError(MLP().text()), "");
}

TEST_F(ImporterTest, EveryExampleImports) {
  std::string dir = SNNC_SOURCE_DIR "/examples/models";
  DIR *d = opendir(dir.c_str());
  ASSERT_NE(d, nullptr);
  int count = 0;
  while (dirent *e = readdir(d)) {
    std::string name = e->d_name;
    if (name.size() < 9 || name.substr(name.size() - 8) != ".onnxtxt")
      continue;
    ++count;
    std::string error;
    auto module = snn::importONNX(readFile(dir + "/" + name), true, ctx, error);
    ASSERT_TRUE(module) << name << ": " << error;
    auto forward = module->lookupSymbol<func::FuncOp>("forward");
    ASSERT_TRUE(forward) << name;
    int lifs = 0;
    forward.walk([&](snn::NeuronOp) { ++lifs; });
    forward.walk([&](snn::FeedbackOp) { ++lifs; });
    forward.walk([&](snn::FeedbackRingOp) { ++lifs; });
    EXPECT_GE(lifs, 1) << name;
  }
  closedir(d);
  EXPECT_EQ(count, 10);
}

TEST_F(ImporterTest, InitializersBecomeInitialValues) {
  MLP m;
  m.initializers = "<float[3, 5] w2 = {1,2,3,4,5,6,7,8,9,10,11,12,13,14,15}>";
  m.inputs = "float[4, 6] x, int32[4] labels, float[5, 6] w1";
  std::string error;
  auto module = snn::importONNX(m.text(), true, ctx, error);
  ASSERT_TRUE(module) << error;
  auto forward = module->lookupSymbol<func::FuncOp>("forward");
  auto init = forward.getArgAttrOfType<DenseElementsAttr>(1, "snn.init");
  ASSERT_TRUE(init);
  EXPECT_EQ(init.getValues<float>()[14], 15.0f);
  EXPECT_FALSE(forward.getArgAttr(0, "snn.init"));
}

struct BadCase {
  const char *name;
  std::function<void(MLP &)> edit;
  const char *expected;
};

TEST_F(ImporterTest, MalformedModelsGiveOneClearLine) {
  std::vector<BadCase> cases = {
      {"unknown op", [](MLP &m) { m.psc1 = "a1 = Softplus (s1)"; },
       "node '<unnamed>' (#3, Softplus): unsupported op 'Softplus'"},
      {"unknown ai.snn op", [](MLP &m) { m.psc1 = "a1 = ai.snn.Izhikevich (s1)"; },
       "Izhikevich"},
      {"unknown domain", [](MLP &m) { m.psc1 = "a1 = com.acme.Spiky (s1)"; },
       "com.acme"},
      {"missing attribute", [](MLP &m) {
         m.encode = "a0 = ai.snn.EncodeCurrent <tau_s = 2.0> (x)"; },
       "'T'"},
      {"tau_m < 1", [](MLP &m) {
         m.lif1 = "u1, s1 = ai.snn.LIF <tau_m = 0.5> (c1)"; },
       "(#2, LIF): attribute 'tau_m' must be >= 1"},
      {"unknown reset", [](MLP &m) {
         m.lif1 = "u1, s1 = ai.snn.LIF <reset = \"half\"> (c1)"; },
       "(#2, LIF): attribute 'reset' must be zero or subtract, got 'half'"},
      {"IF with tau_m", [](MLP &m) {
         m.lif1 = "u1, s1 = ai.snn.IF <tau_m = 4.0> (c1)"; },
       "Unrecognized attribute: tau_m for operator IF"},
      {"threshold <= 0", [](MLP &m) {
         m.lif1 = "u1, s1 = ai.snn.LIF <threshold = -0.5> (c1)"; },
       "attribute 'threshold' must be > 0"},
      {"T < 1", [](MLP &m) {
         m.encode = "a0 = ai.snn.EncodeCurrent <T = 0> (x)"; },
       "attribute 'T' must be >= 1"},
      {"tau_s < 1", [](MLP &m) { m.psc1 = "a1 = ai.snn.PSC <tau_s = 0.5> (s1)"; },
       "attribute 'tau_s' must be >= 1"},
      {"T disagrees", [](MLP &m) {
         m.target = "d = ai.snn.TargetSpikes <T = 3, num_classes = 3> (labels)"; },
       "T = 3 disagrees with T = 2"},
      {"dense shapes disagree", [](MLP &m) {
         m.inputs = "float[4, 6] x, int32[4] labels, float[5, 7] w1, float[3, 5] w2"; },
       "input has 6 features but weight 'w1' expects 7"},
      {"cycle", [](MLP &m) { m.dense1 = "c1 = Gemm <transB = 1> (a1, w1)"; },
       "topologically sorted"},
      {"unsupported opset", [](MLP &m) {
         m.header = R"(<ir_version: 8, opset_import: ["" : 7, "ai.snn" : 1]>)"; },
       "unsupported opset ai.onnx 7"},
      {"unsupported ai.snn version", [](MLP &m) {
         m.header = R"(<ir_version: 8, opset_import: ["" : 13, "ai.snn" : 2]>)"; },
       "unsupported opset ai.snn 2"},
      {"no output", [](MLP &m) { m.outputs = "float loss"; },
       "the graph must have two outputs"},
      {"name used twice", [](MLP &m) { m.psc1 = "c1 = ai.snn.PSC (s1)"; },
       "c1"},
      {"bias of the wrong shape", [](MLP &m) {
         m.dense1 = "c1 = Gemm <transB = 1> (a0, w1, w1)"; },
       "bias 'w1' must have shape [5]"},
      {"Gemm beta", [](MLP &m) {
         m.dense1 = "c1 = Gemm <transB = 1, beta = 2.0> (a0, w1)"; },
       "only beta = 1 is supported"},
      {"transB", [](MLP &m) { m.dense1 = "c1 = Gemm (a0, w1)"; },
       "transB = 1"},
      {"dynamic batch", [](MLP &m) {
         m.inputs = "float[N, 6] x, int32[4] labels, float[5, 6] w1, float[3, 5] w2"; },
       "graph input 'x' needs a static shape"},
      {"no time axis", [](MLP &m) {
         m.lif1 = "u1, s1 = ai.snn.LIF (labels)"; },
       "must be an activation with a time axis"},
      {"syntax error", [](MLP &m) { m.lif1 = "u1, s1 = ai.snn.LIF <tau_m = > (c1)"; },
       ":"},
      {"loss shapes disagree", [](MLP &m) {
         m.target = "d = ai.snn.TargetSpikes <T = 2, num_classes = 4> (labels)"; },
       "spike trains disagree"},
      {"labels not int32", [](MLP &m) {
         m.inputs = "float[4, 6] x, float[4] labels, float[5, 6] w1, float[3, 5] w2"; },
       "labels"},
  };
  ASSERT_GE(cases.size(), 20u);
  for (const BadCase &c : cases) {
    MLP m;
    c.edit(m);
    std::string error = importError(m.text());
    EXPECT_NE(error.find(c.expected), std::string::npos)
        << c.name << ": got '" << error << "'";
    EXPECT_EQ(error.find('\n'), std::string::npos) << c.name << ": " << error;
  }
}

TEST_F(ImporterTest, SyntaxErrorsNameLineAndColumn) {
  MLP m;
  m.lif1 = "u1, s1 = ai.snn.LIF <tau_m = > (c1)";
  std::string error = importError(m.text());
  ASSERT_FALSE(error.empty());
  EXPECT_TRUE(std::isdigit(error[0])) << error;
  EXPECT_NE(error.find(':'), std::string::npos) << error;
}

TEST_F(ImporterTest, BadBytes) {
  EXPECT_EQ(importError("", false), "the file is empty");
  EXPECT_NE(importError("\x08\x07garbage\xff\xff\xff", false).find(
                "not a valid ONNX protobuf"),
            std::string::npos);
  // A real binary model, truncated.
  std::string bytes = readFile(SNNC_SOURCE_DIR "/tests/unit/Inputs/tiny.onnx");
  ASSERT_FALSE(bytes.empty());
  EXPECT_EQ(importError(bytes, false), "");
  EXPECT_NE(importError(bytes.substr(0, bytes.size() / 2), false)
                .find("not a valid ONNX protobuf"),
            std::string::npos);
}

} // namespace

namespace {
/// The MLP with BatchNormalization between its first Gemm and LIF.
MLP withBatchNorm(const std::string &node) {
  MLP m;
  m.inputs += ", float[5] g1, float[5] b1, float[5] m1, float[5] v1";
  m.dense1 = "c0 = Gemm <transB = 1> (a0, w1)\n" + node;
  return m;
}
} // namespace

TEST_F(ImporterTest, BatchNormalization) {
  MLP m = withBatchNorm("c1 = BatchNormalization <epsilon = 1e-3, momentum = "
                        "0.8> (c0, g1, b1, m1, v1)");
  std::string error;
  auto module = snn::importONNX(m.text(), true, ctx, error);
  ASSERT_TRUE(module) << error;
  auto forward = module->lookupSymbol<func::FuncOp>("forward");
  snn::BatchNormOp bn;
  forward.walk([&](snn::BatchNormOp op) { bn = op; });
  ASSERT_TRUE(bn);
  EXPECT_TRUE(bn.getTraining());
  EXPECT_FLOAT_EQ(bn.getEps().convertToFloat(), 1e-3f);
  // ONNX's momentum weighs the running value, PyTorch's (snnc's) the batch.
  EXPECT_NEAR(bn.getMomentum().convertToFloat(), 0.2f, 1e-6f);
  // Scale and bias are parameters; the statistics are buffers, initialized
  // to 0 and 1 (ONNX's defaults for a fresh model).
  auto arg = [&](Value v) { return cast<BlockArgument>(v).getArgNumber(); };
  EXPECT_TRUE(forward.getArgAttr(arg(bn.getGamma()), "snn.param"));
  EXPECT_FALSE(forward.getArgAttr(arg(bn.getGamma()), "snn.buffer"));
  for (Value stat : {bn.getRunningMean(), bn.getRunningVar()}) {
    EXPECT_TRUE(forward.getArgAttr(arg(stat), "snn.param"));
    EXPECT_TRUE(forward.getArgAttr(arg(stat), "snn.buffer"));
  }
  auto init = forward.getArgAttrOfType<DenseElementsAttr>(
      arg(bn.getRunningVar()), "snn.init");
  ASSERT_TRUE(init);
  EXPECT_EQ(init.getValues<float>()[0], 1.0f);
}

TEST_F(ImporterTest, BatchNormalizationErrors) {
  EXPECT_NE(importError(withBatchNorm("c1 = BatchNormalization <momentum = 1.5> "
                                      "(c0, g1, b1, m1, v1)")
                            .text())
                .find("attribute 'momentum' must be in [0, 1]"),
            std::string::npos);
  EXPECT_NE(importError(withBatchNorm("c1 = BatchNormalization <epsilon = 0.0> "
                                      "(c0, g1, b1, m1, v1)")
                            .text())
                .find("epsilon"),
            std::string::npos);
  EXPECT_NE(importError(withBatchNorm("c1 = BatchNormalization (c0, g1, b1, m1, m1)")
                            .text())
                .find("four different tensors"),
            std::string::npos);
  MLP wrong = withBatchNorm("c1 = BatchNormalization (c0, g1, b1, m1, v1)");
  wrong.inputs = "float[4, 6] x, int32[4] labels, float[5, 6] w1, float[3, 5] "
                 "w2, float[4] g1, float[5] b1, float[5] m1, float[5] v1";
  EXPECT_NE(importError(wrong.text()).find("scale 'g1' must have shape [5]"),
            std::string::npos)
      << importError(wrong.text());
}

namespace {
/// A toy F400 (IDE_SPEC section 1.1); `feedback` and `spectral` replace its
/// two IDE nodes.
std::string feedbackModel(const std::string &feedback,
                          const std::string &spectral =
                              "w = ai.snn.SpectralNorm (w_fb, g_fb, u_fb, v_fb)",
                          const std::string &wfb = "float[5, 5] w_fb") {
  return std::string(R"(<ir_version: 8, opset_import: ["" : 15, "ai.snn" : 1]>
f (float[4, 6] x, int32[4] labels, float[5, 6] w_in, )") +
         wfb + R"(, float[1] g_fb, float[5] u_fb, float[5] v_fb, float[3, 5] w_out) => (float loss, float[4, 3] logits)
{
  a0 = ai.snn.EncodeCurrent <T = 1, tau_s = 1.0> (x)
  c = Gemm <transB = 1> (a0, w_in)
  )" + spectral + "\n  " + feedback + R"(
  logits = Gemm <transB = 1> (a, w_out)
  loss = ai.snn.CrossEntropyLoss (logits, labels)
}
)";
}
} // namespace

TEST_F(ImporterTest, FeedbackModule) {
  std::string error;
  auto module = snn::importONNX(
      feedbackModel("a = ai.snn.Feedback <T = 5, threshold = 2.0, leak = "
                    "0.95, dropout = 0.2, solver = \"official_iter\"> (c, w)"),
      true, ctx, error);
  ASSERT_TRUE(module) << error;
  auto forward = module->lookupSymbol<func::FuncOp>("forward");
  snn::FeedbackOp fb;
  snn::SpectralNormOp sn;
  forward.walk([&](snn::FeedbackOp op) { fb = op; });
  forward.walk([&](snn::SpectralNormOp op) { sn = op; });
  ASSERT_TRUE(fb && sn);
  EXPECT_EQ(fb.getSteps(), 5);
  EXPECT_EQ(fb.getSolver(), snn::IDESolver::official_iter);
  EXPECT_EQ(fb.getWeight(), sn.getResult());
  auto arg = [&](Value v) { return cast<BlockArgument>(v).getArgNumber(); };
  // u, v are buffers (unit vectors at the start), g a parameter (1).
  EXPECT_TRUE(forward.getArgAttr(arg(sn.getU()), "snn.buffer"));
  EXPECT_TRUE(forward.getArgAttr(arg(sn.getV()), "snn.buffer"));
  EXPECT_FALSE(forward.getArgAttr(arg(sn.getG()), "snn.buffer"));
  auto u = forward.getArgAttrOfType<DenseElementsAttr>(arg(sn.getU()), "snn.init");
  ASSERT_TRUE(u);
  EXPECT_NEAR(u.getValues<float>()[0], 1.0f / std::sqrt(5.0f), 1e-6f);
}

// IDE_SPEC section 9's initialisation, as schemes on the parameters the
// model leaves to the trainer: unit rows for the input connection and the
// feedback, g from the feedback's spectral norm, random unit u and v,
// PyTorch's Linear default for the readout (1/sqrt(5) here). A parameter
// with an initializer keeps it and gets no scheme.
TEST_F(ImporterTest, FeedbackModuleInitSchemes) {
  std::string error;
  auto module = snn::importONNX(
      feedbackModel("a = ai.snn.Feedback <T = 5> (c, w)"), true, ctx, error);
  ASSERT_TRUE(module) << error;
  auto forward = module->lookupSymbol<func::FuncOp>("forward");
  std::map<std::string, std::string> scheme;
  for (unsigned i = 0; i < forward.getNumArguments(); ++i)
    if (auto s = forward.getArgAttrOfType<StringAttr>(i, "snn.init_scheme"))
      scheme[forward.getArgAttrOfType<StringAttr>(i, "snn.name").str()] = s.str();
  std::map<std::string, std::string> want{
      {"w_in", "unit_rows"},        {"w_fb", "unit_rows"},
      {"g_fb", "spectral_norm:w_fb"}, {"u_fb", "random_unit"},
      {"v_fb", "random_unit"},      {"w_out", "uniform:0.447213595"}};
  EXPECT_EQ(scheme, want);

  std::string given = feedbackModel("a = ai.snn.Feedback <T = 5> (c, w)");
  given.replace(given.find("float[1] g_fb, "), 15, "");
  given.replace(given.find("{\n"), 2, "<float[1] g_fb = {0.5}>\n{\n");
  module = snn::importONNX(given, true, ctx, error);
  ASSERT_TRUE(module) << error;
  forward = module->lookupSymbol<func::FuncOp>("forward");
  bool found = false;
  for (unsigned i = 0; i < forward.getNumArguments(); ++i)
    if (forward.getArgAttrOfType<StringAttr>(i, "snn.name").str() == "g_fb") {
      found = true;
      EXPECT_FALSE(forward.getArgAttr(i, "snn.init_scheme"));
      auto init = forward.getArgAttrOfType<DenseElementsAttr>(i, "snn.init");
      ASSERT_TRUE(init);
      EXPECT_EQ(init.getValues<float>()[0], 0.5f);
    }
  EXPECT_TRUE(found);
}

TEST_F(ImporterTest, FeedbackModuleErrors) {
  auto expectError = [&](const std::string &model, const std::string &want) {
    std::string error = importError(model);
    EXPECT_NE(error.find(want), std::string::npos) << error;
  };
  expectError(feedbackModel("a = ai.snn.Feedback <T = 0> (c, w)"),
              "attribute 'T' must be in [1, ");
  expectError(feedbackModel("a = ai.snn.Feedback <T = 5, threshold = 0.0> (c, w)"),
              "threshold");
  expectError(feedbackModel("a = ai.snn.Feedback <T = 5, leak = 1.5> (c, w)"),
              "attribute 'leak' must be in (0, 1] (1: IF)");
  expectError(feedbackModel("a = ai.snn.Feedback <T = 5, leak = 0.0> (c, w)"),
              "attribute 'leak' must be in (0, 1]");
  expectError(feedbackModel("a = ai.snn.Feedback <T = 5, solver = \"newton\"> (c, w)"),
              "attribute 'solver' must be broyden, fixed_point, official_iter or exact, got 'newton'");
  expectError(feedbackModel("a = ai.snn.Feedback <T = 5, dropout = 1.0> (c, w)"),
              "attribute 'dropout' must be in [0, 1)");
  // The feedback weight must be [N, N].
  std::string rect = feedbackModel("a = ai.snn.Feedback <T = 5> (c, w)",
                                   "w = ai.snn.SpectralNorm (w_fb, g_fb, u_fb, v_fb)",
                                   "float[5, 4] w_fb");
  rect.replace(rect.find("float[5] v_fb"), 13, "float[4] v_fb");
  expectError(rect, "the feedback weight 'w' must be [5, 5]");
  expectError(feedbackModel("a = ai.snn.Feedback <T = 5> (c, w)",
                            "w = ai.snn.SpectralNorm (w_fb, g_fb, u_fb, v_fb)",
                            "float[5, 4] w_fb"),
              "vector v 'v_fb' must have shape [4]");
  // A current with a time axis (T > 1) is not a constant current.
  std::string timed = feedbackModel("a = ai.snn.Feedback <T = 5> (c, w)");
  size_t at = timed.find("<T = 1, tau_s = 1.0>");
  timed.replace(at, 20, "<T = 2, tau_s = 1.0>");
  timed.replace(timed.find("float[4, 3] logits"), 18, "float[8, 3] logits");
  expectError(timed, "must be a constant current");
}

namespace {
/// 64C5s in small: Conv 1->2 (8x8 -> 4x4) + the convolutional feedback.
std::string convFeedbackModel(const std::string &kernel,
                              const std::string &vSize = "18",
                              const std::string &uSize = "2") {
  return R"(<ir_version: 8, opset_import: ["" : 15, "ai.snn" : 1]>
f (float[4, 1, 8, 8] x, int32[4] labels, float[2, 1, 3, 3] w_in, )" +
         kernel + " w_fb, float[1] g_fb, float[" + uSize + "] u_fb, float[" + vSize +
         R"(] v_fb, float[3, 32] w_out) => (float loss, float[4, 3] logits)
{
  a0 = ai.snn.EncodeCurrent <T = 1, tau_s = 1.0> (x)
  c = Conv <kernel_shape = [3, 3], strides = [2, 2], pads = [1, 1, 1, 1]> (a0, w_in)
  w = ai.snn.SpectralNorm (w_fb, g_fb, u_fb, v_fb)
  a = ai.snn.Feedback <T = 5> (c, w)
  logits = Gemm <transB = 1> (a, w_out)
  loss = ai.snn.CrossEntropyLoss (logits, labels)
}
)";
}
} // namespace

// A convolutional module: images in, a kernel [C, C, K, K] as feedback
// (spectral norm on its [C, C*K*K] matrix), flattened rates out.
TEST_F(ImporterTest, ConvFeedbackModule) {
  std::string error;
  auto module = snn::importONNX(convFeedbackModel("float[2, 2, 3, 3]"), true,
                                ctx, error);
  ASSERT_TRUE(module) << error;
  snn::FeedbackOp fb;
  module->walk([&](snn::FeedbackOp op) { fb = op; });
  ASSERT_TRUE(fb);
  ASSERT_TRUE(fb.getImage());
  EXPECT_EQ(std::vector<int64_t>(fb.getImage()->begin(), fb.getImage()->end()),
            (std::vector<int64_t>{2, 4, 4}));
  EXPECT_EQ(fb.getInput().getType().getShape(),
            (ArrayRef<int64_t>{1, 4, 32}));
  auto expectError = [&](const std::string &model, const std::string &want) {
    std::string e = importError(model);
    EXPECT_NE(e.find(want), std::string::npos) << e;
  };
  expectError(convFeedbackModel("float[2, 2, 2, 2]", "8"),
              "the feedback kernel 'w' must be [2, 2, KH, KW] with odd KH and KW");
  expectError(convFeedbackModel("float[3, 2, 3, 3]", "18", "3"),
              "the feedback kernel 'w' must be [2, 2, KH, KW]");
  expectError(convFeedbackModel("float[2, 2, 3, 3]", "9"),
              "vector v 'v_fb' must have shape [18]");
}
