// The .npy header format (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html):
// a strict parser and the writer's header. Pure C++: every function here may run on any thread
// and touches no JS value.
//
// Parser invariants: it never reads a byte at or past `avail`; every size it derives is computed
// with checked arithmetic; on success dataOffset + product(shape) * itemsize == fileSize exactly, and every
// stride and shape product fits in a JS safe integer (< 2^53).
#include "npy/npy_header.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <string>

#include "core/errors.h"

namespace nds {

namespace {

constexpr uint8_t kMagic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
constexpr uint64_t kMaxSafe = static_cast<uint64_t>(kMaxSafeInteger);
constexpr size_t kAlign = 64;

// a * b, or false when the result would exceed kMaxSafe.
bool MulSafe(uint64_t a, uint64_t b, uint64_t* out) {
  if (a != 0 && b > kMaxSafe / a) return false;
  *out = a * b;
  return true;
}

[[noreturn]] void Bad(const std::string& path, const std::string& why) {
  throw CodedError("ERR_NPY_HEADER", "not a supported .npy file: " + why + " ('" + path + "')", path);
}

// A cursor over the header dict text [p, end). Recognises exactly the Python literal subset
// numpy writes: {'key': value, ...} with string, True/False and tuple-of-int values.
class HeaderLexer {
 public:
  HeaderLexer(const char* p, const char* end, const std::string& path) : p_(p), end_(end), path_(path) {}

  void SkipSpace() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) ++p_;
  }
  bool AtEnd() const { return p_ >= end_; }
  char Peek() const { return p_ < end_ ? *p_ : '\0'; }

  void Expect(char c, const char* what) {
    SkipSpace();
    if (Peek() != c) Bad(path_, std::string("expected ") + what + " in the header dict");
    ++p_;
  }
  // True (and consumes it) when the next non-space character is `c`.
  bool Accept(char c) {
    SkipSpace();
    if (Peek() != c) return false;
    ++p_;
    return true;
  }

  // A quoted string without escapes: 'abc' or "abc".
  std::string String(const char* what) {
    SkipSpace();
    const char q = Peek();
    if (q != '\'' && q != '"') Bad(path_, std::string(what) + " must be a quoted string");
    ++p_;
    const char* s = p_;
    while (p_ < end_ && *p_ != q) {
      if (*p_ == '\\' || *p_ == '\n') Bad(path_, std::string(what) + " has an escape or line break");
      ++p_;
    }
    if (p_ >= end_) Bad(path_, std::string(what) + " is an unterminated string");
    std::string out(s, p_);
    ++p_;
    return out;
  }

  bool Bool() {
    SkipSpace();
    if (Word("True")) return true;
    if (Word("False")) return false;
    Bad(path_, "'fortran_order' must be True or False");
  }

  // A tuple of non-negative decimal ints, as Python writes it: (), (n,), (a, b), (a, b, c,).
  int Tuple(uint64_t dims[], int maxDims) {
    Expect('(', "'(' opening 'shape'");
    int n = 0;
    bool needComma = false;  // a 1-tuple needs its trailing comma
    for (;;) {
      SkipSpace();
      if (Peek() == ')') {
        if (needComma) Bad(path_, "'shape' (n) is not a tuple; a 1-tuple is written (n,)");
        ++p_;
        return n;
      }
      if (n >= maxDims) Bad(path_, "'shape' has more than 3 dimensions");
      dims[n++] = Int();
      if (Accept(',')) {
        needComma = false;
      } else {
        needComma = n == 1;
        SkipSpace();
        if (Peek() != ')') Bad(path_, "'shape' must be a tuple of integers");
      }
    }
  }

 private:
  bool Word(const char* w) {
    const size_t len = std::strlen(w);
    if (static_cast<size_t>(end_ - p_) < len || std::memcmp(p_, w, len) != 0) return false;
    const char* after = p_ + len;
    if (after < end_ && (std::isalnum(static_cast<unsigned char>(*after)) || *after == '_')) return false;
    p_ = after;
    return true;
  }

  uint64_t Int() {
    SkipSpace();
    if (Peek() < '0' || Peek() > '9') Bad(path_, "'shape' entries must be non-negative integers");
    if (Peek() == '0' && p_ + 1 < end_ && p_[1] >= '0' && p_[1] <= '9') {
      Bad(path_, "'shape' entries must not have leading zeros");
    }
    uint64_t v = 0;
    while (p_ < end_ && *p_ >= '0' && *p_ <= '9') {
      v = v * 10 + static_cast<uint64_t>(*p_ - '0');
      if (v > kMaxSafe) Bad(path_, "a 'shape' entry is too large");
      ++p_;
    }
    if (p_ < end_ && (std::isalpha(static_cast<unsigned char>(*p_)) || *p_ == '.' || *p_ == '_')) {
      Bad(path_, "'shape' entries must be plain integers");
    }
    return v;
  }

  const char* p_;
  const char* end_;
  const std::string& path_;
};

// Parses a descr string: byte-order char then kind and size, e.g. '<f4', '|u1', '>i2', '=u4'.
void ParseDescr(const std::string& d, const std::string& path, DType* dtype, bool* bigEndian) {
  if (d.size() != 3) Bad(path, "dtype '" + d + "' is not supported (expected one of |u1 |i1 <u2 <i2 <u4 <i4 <f4 <f8)");
  const char order = d[0];
  const char kind = d[1];
  const char size = d[2];
  struct Entry {
    char kind, size;
    DType t;
  };
  static const Entry table[] = {{'u', '1', DType::U8},  {'i', '1', DType::I8},  {'u', '2', DType::U16},
                                {'i', '2', DType::I16}, {'u', '4', DType::U32}, {'i', '4', DType::I32},
                                {'f', '4', DType::F32}, {'f', '8', DType::F64}};
  const Entry* found = nullptr;
  for (const Entry& e : table) {
    if (e.kind == kind && e.size == size) found = &e;
  }
  if (found == nullptr)
    Bad(path, "dtype '" + d + "' is not supported (expected one of |u1 |i1 <u2 <i2 <u4 <i4 <f4 <f8)");
  const bool oneByte = size == '1';
  if (order == '<') {
    *bigEndian = false;
  } else if (order == '>') {
    *bigEndian = true;
  } else if (order == '=') {
    *bigEndian = HostIsBigEndian();
  } else if (order == '|' && oneByte) {
    *bigEndian = false;
  } else {
    Bad(path, "dtype '" + d + "' has an invalid byte order");
  }
  if (oneByte) *bigEndian = false;  // byte order is meaningless for one-byte items
  *dtype = found->t;
}

}  // namespace

NpyHeader ParseNpyHeader(const uint8_t* data, size_t avail, uint64_t fileSize, const std::string& path) {
  if (avail > fileSize) avail = static_cast<size_t>(fileSize);
  if (avail == 0) Bad(path, "the file is empty");
  if (avail < 10 || std::memcmp(data, kMagic, sizeof kMagic) != 0) Bad(path, "bad magic string");
  NpyHeader h;
  const uint8_t major = data[6];
  const uint8_t minor = data[7];
  if (minor != 0 || major < 1 || major > 3) {
    Bad(path, "unknown format version " + std::to_string(major) + "." + std::to_string(minor));
  }
  h.version = major;
  size_t prefix;
  uint64_t hlen;
  if (major == 1) {
    prefix = 10;
    hlen = static_cast<uint64_t>(data[8]) | (static_cast<uint64_t>(data[9]) << 8);
  } else {
    prefix = 12;
    if (avail < prefix) Bad(path, "the header is truncated");
    hlen = static_cast<uint64_t>(data[8]) | (static_cast<uint64_t>(data[9]) << 8) |
           (static_cast<uint64_t>(data[10]) << 16) | (static_cast<uint64_t>(data[11]) << 24);
  }
  if (hlen > avail - prefix)
    Bad(path, "the header length (" + std::to_string(hlen) + ") runs past the end of the file");
  const size_t dataOffset = prefix + static_cast<size_t>(hlen);
  const char* text = reinterpret_cast<const char*>(data + prefix);
  const char* end = text + hlen;
  for (const char* q = text; q < end; ++q) {
    const unsigned char ch = static_cast<unsigned char>(*q);
    if (!((ch >= 0x20 && ch < 0x7f) || ch == '\n' || ch == '\t' || ch == '\r')) {
      Bad(path, "the header contains a non-ASCII or control byte");
    }
  }

  HeaderLexer lx(text, end, path);
  lx.Expect('{', "'{'");
  bool seenDescr = false, seenOrder = false, seenShape = false;
  std::string descr;
  uint64_t dims[3] = {0, 0, 0};
  int ndim = 0;
  for (;;) {
    if (lx.Accept('}')) break;
    const std::string key = lx.String("a header key");
    lx.Expect(':', "':' after a key");
    if (key == "descr") {
      if (seenDescr) Bad(path, "duplicate key 'descr'");
      seenDescr = true;
      lx.SkipSpace();
      if (lx.Peek() == '[' || lx.Peek() == '(' || lx.Peek() == '{') Bad(path, "structured dtypes are not supported");
      descr = lx.String("'descr'");
    } else if (key == "fortran_order") {
      if (seenOrder) Bad(path, "duplicate key 'fortran_order'");
      seenOrder = true;
      h.fortranOrder = lx.Bool();
    } else if (key == "shape") {
      if (seenShape) Bad(path, "duplicate key 'shape'");
      seenShape = true;
      ndim = lx.Tuple(dims, 3);
    } else {
      Bad(path, "unexpected header key '" + key.substr(0, 40) + "'");
    }
    if (lx.Accept('}')) break;
    lx.Expect(',', "',' or '}'");
  }
  lx.SkipSpace();
  if (!lx.AtEnd()) Bad(path, "unexpected text after the header dict");
  if (!seenDescr || !seenOrder || !seenShape)
    Bad(path, "the header must have the keys 'descr', 'fortran_order' and 'shape'");
  ParseDescr(descr, path, &h.dtype, &h.bigEndian);
  if (ndim != 2 && ndim != 3)
    Bad(path, "only 2-D and 3-D arrays are supported, this one has " + std::to_string(ndim) + " dimensions");

  h.ndim = ndim;
  h.shape[0] = static_cast<int64_t>(dims[0]);
  h.shape[1] = static_cast<int64_t>(dims[1]);
  h.shape[2] = ndim == 3 ? static_cast<int64_t>(dims[2]) : 1;
  // Every stride is a product of a subset of the dimensions and the item size; bounding the
  // product of all of them (zeros counted as 1) bounds every stride.
  uint64_t bound = static_cast<uint64_t>(ItemSize(h.dtype));
  uint64_t bytes = bound;
  for (int i = 0; i < 3; ++i) {
    const uint64_t d = static_cast<uint64_t>(h.shape[i]);
    if (!MulSafe(bound, d == 0 ? 1 : d, &bound)) Bad(path, "the shape is too large");
    bytes *= d;
  }
  if (dataOffset > fileSize || bytes > fileSize - dataOffset) {
    Bad(path, "the data section is shorter than the header claims (" + std::to_string(bytes) + " bytes expected, " +
                  std::to_string(fileSize - std::min<uint64_t>(fileSize, dataOffset)) + " present)");
  }
  if (bytes != fileSize - dataOffset) {
    Bad(path, "the file is longer than the header claims (" + std::to_string(bytes) + " bytes of data expected, " +
                  std::to_string(fileSize - dataOffset) + " present)");
  }
  h.dataOffset = dataOffset;
  return h;
}

void NpyStrides(const NpyHeader& h, int64_t* sy, int64_t* sx, int64_t* sc) {
  const int64_t n = ItemSize(h.dtype);
  const int64_t H = h.shape[0], W = h.shape[1], C = h.shape[2];
  if (h.fortranOrder) {
    *sy = n;
    *sx = H * n;
    *sc = H * W * n;
  } else {
    *sc = n;
    *sx = C * n;
    *sy = W * C * n;
  }
}

std::string BuildNpyHeader(DType dtype, int ndim, const int64_t shape[3]) {
  static const char* descrs[kNumDTypes] = {"|u1", "|i1", "<u2", "<i2", "<u4", "<i4", "<f4", "<f8"};
  std::string dict = "{'descr': '";
  dict += descrs[static_cast<int>(dtype)];
  dict += "', 'fortran_order': False, 'shape': (";
  dict += std::to_string(shape[0]) + ", " + std::to_string(shape[1]);
  if (ndim == 3) dict += ", " + std::to_string(shape[2]);
  dict += "), }";
  // magic(6) + version(2) + length(2) + dict + spaces + '\n' is a multiple of kAlign.
  const size_t unpadded = 10 + dict.size() + 1;
  const size_t pad = (kAlign - unpadded % kAlign) % kAlign;
  const size_t hlen = dict.size() + pad + 1;
  std::string out;
  out.reserve(10 + hlen);
  out.append(reinterpret_cast<const char*>(kMagic), sizeof kMagic);
  out.push_back('\x01');
  out.push_back('\x00');
  out.push_back(static_cast<char>(hlen & 0xff));
  out.push_back(static_cast<char>((hlen >> 8) & 0xff));
  out += dict;
  out.append(pad, ' ');
  out.push_back('\n');
  return out;
}

bool NpyDataBytes(DType dtype, const int64_t shape[3], uint64_t* bytes) {
  uint64_t n = static_cast<uint64_t>(ItemSize(dtype));
  for (int i = 0; i < 3; ++i) {
    if (shape[i] < 0 || !MulSafe(n, static_cast<uint64_t>(shape[i]), &n)) return false;
  }
  *bytes = n;
  return true;
}

}  // namespace nds
