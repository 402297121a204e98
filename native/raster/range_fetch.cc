// RemoteObject: checked byte-range fetches through CPLHTTPFetchEx. Any thread.
#include "raster/range_fetch.h"

#include <cpl_conv.h>
#include <cpl_error.h>
#include <cpl_http.h>
#include <cpl_string.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <exception>
#include <functional>
#include <thread>

#include "core/errors.h"
#include "raster/gdal_setup.h"
#include "raster/remote_error.h"

namespace nds {

namespace {

// Ranges per multi-range request (keeps the Range header far below servers' header limits), and
// the requests a large set of ranges is spread over at least, so their answers arrive in parallel.
constexpr size_t kMaxRangesPerRequest = 64;
constexpr size_t kParallelRequests = 4;
// A presigned URL is renewed after this many seconds (GDAL signs them for an hour).
constexpr double kResignSeconds = 1800;
constexpr int kFetchThreads = 16;

double Now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

// A small process-wide pool of fetch threads (never destroyed: its threads wait for work for
// the life of the process). Run() executes the first task on the caller and the others on the
// pool, and returns when all are done, rethrowing the first failure.
class FetchPool {
 public:
  static FetchPool& Get() {
    static FetchPool* pool = new FetchPool();
    return *pool;
  }

  void Run(std::vector<std::function<void()>>& tasks) {
    if (tasks.empty()) return;
    struct Latch {
      std::mutex mu;
      std::condition_variable cv;
      size_t left;
      std::exception_ptr error;
    };
    auto latch = std::make_shared<Latch>();
    latch->left = tasks.size() - 1;
    {
      std::lock_guard<std::mutex> lock(mu_);
      Start();
      for (size_t i = 1; i < tasks.size(); ++i) {
        std::function<void()> task = tasks[i];
        queue_.push_back([task, latch] {
          std::exception_ptr err;
          try {
            task();
          } catch (...) {
            err = std::current_exception();
          }
          std::lock_guard<std::mutex> l(latch->mu);
          if (err && !latch->error) latch->error = err;
          if (--latch->left == 0) latch->cv.notify_all();
        });
      }
    }
    cv_.notify_all();
    std::exception_ptr first;
    try {
      tasks[0]();
    } catch (...) {
      first = std::current_exception();
    }
    std::unique_lock<std::mutex> l(latch->mu);
    latch->cv.wait(l, [&] { return latch->left == 0; });
    if (first) std::rethrow_exception(first);
    if (latch->error) std::rethrow_exception(latch->error);
  }

 private:
  void Start() {  // mu_ held
    if (!threads_.empty()) return;
    for (int i = 0; i < kFetchThreads; ++i) {
      threads_.emplace_back([this] {
        for (;;) {
          std::function<void()> job;
          {
            std::unique_lock<std::mutex> lock(mu_);
            cv_.wait(lock, [&] { return !queue_.empty(); });
            job = std::move(queue_.front());
            queue_.pop_front();
          }
          job();
        }
      });
      threads_.back().detach();
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  std::vector<std::thread> threads_;
};

// GDAL's option for `path`: path-specific first (setRemoteOptions with a prefix), then the
// process-wide config option, then `fallback`.
std::string Option(const std::string& path, const char* key, const char* fallback) {
  const char* v = VSIGetPathSpecificOption(path.c_str(), key, fallback);
  return v != nullptr ? v : "";
}

// "bytes A-B/TOTAL" -> A, B, TOTAL (TOTAL -1 when '*').
bool ParseContentRange(const char* v, int64_t* a, int64_t* b, int64_t* total) {
  if (v == nullptr) return false;
  while (*v == ' ') ++v;
  if (std::strncmp(v, "bytes ", 6) != 0) return false;
  char* end = nullptr;
  *a = std::strtoll(v + 6, &end, 10);
  if (end == nullptr || *end != '-') return false;
  *b = std::strtoll(end + 1, &end, 10);
  if (end == nullptr || *end != '/') return false;
  *total = end[1] == '*' ? -1 : std::strtoll(end + 1, nullptr, 10);
  return *a >= 0 && *b >= *a;
}

struct Progress {
  CancelFlag cancel;
};

int OnProgress(double, const char*, void* arg) {
  const auto* p = static_cast<Progress*>(arg);
  return p->cancel && p->cancel->load() ? FALSE : TRUE;
}

}  // namespace

struct RemoteObject::Answer {
  int status = 0;  // HTTP status (0: no answer)
  std::string contentRange, etag, contentType, lastModified;
  std::vector<uint8_t> body;
  struct Part {
    std::string contentRange;
    std::vector<uint8_t> data;
  };
  std::vector<Part> parts;  // multipart/byteranges
};

RemoteObject::RemoteObject(std::string vsiPath, std::string name, int64_t size)
    : vsiPath_(std::move(vsiPath)), name_(std::move(name)), size_(size) {
  static const char* const kSigned[] = {"/vsis3/", "/vsigs/", "/vsiaz/", "/vsioss/", "/vsiadls/"};
  mode_ = Mode::kVsi;
  if (vsiPath_.rfind("/vsicurl/http://", 0) == 0 || vsiPath_.rfind("/vsicurl/https://", 0) == 0) {
    mode_ = Mode::kHttp;
    httpUrl_ = vsiPath_.substr(std::strlen("/vsicurl/"));
  } else {
    for (const char* p : kSigned) {
      if (vsiPath_.rfind(p, 0) == 0) mode_ = Mode::kSigned;
    }
  }
  if (mode_ != Mode::kHttp) multirange_ = 0;  // object stores answer a multi-range GET with everything
  const std::pair<const char*, const char*> kOptions[] = {
      {"CONNECTTIMEOUT", "GDAL_HTTP_CONNECTTIMEOUT"}, {"TIMEOUT", "GDAL_HTTP_TIMEOUT"},
      {"LOW_SPEED_TIME", "GDAL_HTTP_LOW_SPEED_TIME"}, {"LOW_SPEED_LIMIT", "GDAL_HTTP_LOW_SPEED_LIMIT"},
      {"MAX_RETRY", "GDAL_HTTP_MAX_RETRY"},           {"RETRY_DELAY", "GDAL_HTTP_RETRY_DELAY"}};
  for (const auto& [opt, key] : kOptions) {
    const std::string v = Option(vsiPath_, key, nullptr);
    if (!v.empty()) options_.push_back(std::string(opt) + "=" + v);
  }
}

RemoteObject::~RemoteObject() {
  if (vsi_ != nullptr) VSIFCloseL(vsi_);
}

void RemoteObject::Corrupt(const std::string& why) const {
  ErrorInfo info;
  info.code = "ERR_CACHE_CORRUPT";
  info.message = "published object '" + name_ + "' " + why;
  info.path = name_;
  throw CodedError(std::move(info));
}

std::string RemoteObject::Url() {
  if (mode_ == Mode::kHttp) return httpUrl_;
  std::lock_guard<std::mutex> lock(mu_);
  if (signedUrl_.empty() || Now() - signedAt_ > kResignSeconds) {
    char* url = VSIGetSignedURL(vsiPath_.c_str(), nullptr);
    if (url == nullptr) return "";
    signedUrl_ = url;
    signedAt_ = Now();
    CPLFree(url);
  }
  return signedUrl_;
}

RemoteObject::Answer RemoteObject::Get(const std::string& rangeHeader, int64_t maxBytes, const CancelFlag& cancel) {
  ThrowIfCancelled(cancel, name_);
  const std::string url = Url();
  // One curl session per thread, kept open: requests reuse their connections.
  thread_local const std::string session =
      "ndsampler-" + std::to_string(std::hash<std::thread::id>()(std::this_thread::get_id()));
  CPLStringList opts;
  if (!rangeHeader.empty()) opts.SetNameValue("HEADERS", ("Range: bytes=" + rangeHeader).c_str());
  opts.SetNameValue("MAX_FILE_SIZE", std::to_string(maxBytes).c_str());
  opts.SetNameValue("PERSISTENT", session.c_str());
  for (const std::string& o : options_) opts.AddString(o.c_str());
  Progress progress{cancel};
  CPLHTTPResult* r;
  {
    CPLErrorStateBackuper keep;  // CPLHTTPFetch reports through CPLError too: ours is the coded error
    CPLErrorHandlerPusher quiet(CPLQuietErrorHandler);
    r = CPLHTTPFetchEx(url.c_str(), opts.List(), OnProgress, &progress, nullptr, nullptr);
  }
  if (r == nullptr)
    throw CodedError("ERR_REMOTE", "cannot read '" + name_ + "': GDAL's HTTP client is not available", name_);
  std::unique_ptr<CPLHTTPResult, decltype(&CPLHTTPDestroyResult)> hold(r, CPLHTTPDestroyResult);
  ThrowIfCancelled(cancel, name_);
  const std::string err = r->pszErrBuf != nullptr ? r->pszErrBuf : "";
  RemoteFailure f = ClassifyRemoteMessage(err.c_str(), 0);
  if (r->nStatus == 63 /* CURLE_FILESIZE_EXCEEDED */) {
    if (rangeHeader.empty()) {
      throw CodedError("ERR_TOO_LARGE", "'" + name_ + "' is larger than " + std::to_string(maxBytes) + " bytes", name_);
    }
    Answer a;
    a.status = 200;  // the server ignored the ranges and sent the whole object
    return a;
  }
  if (f.status == 416) {  // a range past the end: the object's size is in Content-Range (bytes */N)
    Answer a;
    a.status = 416;
    const char* cr = CSLFetchNameValue(r->papszHeaders, "Content-Range");
    a.contentRange = cr != nullptr ? cr : "";
    return a;
  }
  if (r->nStatus != 0 || f.status >= 300) {
    if (!f.any()) f.reason = "connection";
    throw CodedError(RemoteErrorInfo("cannot read", name_, f, err.empty() ? "no answer" : err));
  }
  Answer a;
  a.contentType = r->pszContentType != nullptr ? r->pszContentType : "";
  const char* cr = CSLFetchNameValue(r->papszHeaders, "Content-Range");
  const char* etag = CSLFetchNameValue(r->papszHeaders, "ETag");
  const char* lm = CSLFetchNameValue(r->papszHeaders, "Last-Modified");
  a.contentRange = cr != nullptr ? cr : "";
  a.etag = etag != nullptr ? etag : "";
  a.lastModified = lm != nullptr ? lm : "";
  a.status = cr != nullptr || a.contentType.rfind("multipart/byteranges", 0) == 0 ? 206 : 200;
  if (a.contentType.rfind("multipart/byteranges", 0) == 0) {
    if (!CPLHTTPParseMultipartMime(r)) Corrupt("was served as an unreadable multipart answer");
    for (int i = 0; i < r->nMimePartCount; ++i) {
      const CPLMimePart& p = r->pasMimePart[i];
      const char* pcr = CSLFetchNameValue(p.papszHeaders, "Content-Range");
      a.parts.push_back({pcr != nullptr ? pcr : "", std::vector<uint8_t>(p.pabyData, p.pabyData + p.nDataLen)});
    }
  } else if (r->nDataLen > 0) {
    a.body.assign(r->pabyData, r->pabyData + r->nDataLen);
  }
  Check(a);
  return a;
}

// The size and identity the server reports must stay what they should be.
void RemoteObject::Check(const Answer& a) {
  auto total = [&](const std::string& cr) {
    int64_t x, y, t;
    if (!ParseContentRange(cr.c_str(), &x, &y, &t)) Corrupt("was served with an unreadable Content-Range '" + cr + "'");
    return t;
  };
  std::vector<int64_t> sizes;
  if (!a.contentRange.empty()) sizes.push_back(total(a.contentRange));
  for (const auto& p : a.parts) sizes.push_back(total(p.contentRange));
  if (a.status == 200) sizes.push_back(static_cast<int64_t>(a.body.size()));
  for (int64_t t : sizes) {
    if (size_ >= 0 && t >= 0 && t != size_) {
      Corrupt("measures " + std::to_string(t) + " bytes on its server, its manifest says " + std::to_string(size_) +
              " (a different or damaged object)");
    }
  }
  if (!a.etag.empty()) {
    std::lock_guard<std::mutex> lock(mu_);
    if (etag_.empty()) etag_ = a.etag;
    if (etag_ != a.etag) Corrupt("changed on its server while it was read (ETag " + etag_ + " then " + a.etag + ")");
  }
}

int64_t RemoteObject::MergeGap() {
  std::lock_guard<std::mutex> lock(mu_);
  return multirange_ == 0 ? int64_t{512} << 10 : int64_t{64} << 10;
}

bool RemoteObject::Direct() { return mode_ == Mode::kHttp || (mode_ == Mode::kSigned && !Url().empty()); }

RemoteObject::Facts RemoteObject::Probe(const CancelFlag& cancel) {
  Answer a = Get("0-0", 65536, cancel);
  Facts f;
  f.etag = a.etag;
  f.lastModified = a.lastModified;
  int64_t x, y, t;
  if ((a.status == 206 || a.status == 416) && a.contentRange.rfind("bytes */", 0) == 0) {
    f.size = std::strtoll(a.contentRange.c_str() + 8, nullptr, 10);  // an empty object
  } else if (a.status == 206 && ParseContentRange(a.contentRange.c_str(), &x, &y, &t) && t >= 0) {
    f.size = t;
  } else if (a.status == 200 && !a.body.empty()) {
    f.size = static_cast<int64_t>(a.body.size());  // a small object sent whole
  } else {
    throw CodedError(RemoteErrorInfo("cannot stat", name_, RemoteFailure{a.status, "http"},
                                     "the server reports no size (no byte ranges, or too large to send whole)"));
  }
  return f;
}

std::vector<uint8_t> RemoteObject::GetAll(int64_t maxBytes, const CancelFlag& cancel) {
  Answer a = Get("", maxBytes, cancel);
  return std::move(a.body);
}

std::vector<uint8_t> RemoteObject::FetchOne(const ByteRange& r, const CancelFlag& cancel) {
  Answer a = Get(std::to_string(r.offset) + "-" + std::to_string(r.end() - 1), r.length + 65536, cancel);
  int64_t x = 0, y = -1, t = 0;
  if (a.status == 206 && ParseContentRange(a.contentRange.c_str(), &x, &y, &t) && x <= r.offset && y + 1 >= r.end() &&
      static_cast<int64_t>(a.body.size()) == y - x + 1) {
    return std::vector<uint8_t>(a.body.begin() + (r.offset - x), a.body.begin() + (r.end() - x));
  }
  if (a.status == 200 && static_cast<int64_t>(a.body.size()) == size_) {
    return std::vector<uint8_t>(a.body.begin() + r.offset, a.body.begin() + r.end());
  }
  if (a.status == 200 && a.body.empty()) {
    throw CodedError(RemoteErrorInfo("cannot read", name_, RemoteFailure{200, "http"},
                                     "the server does not serve byte ranges (it sent the whole object)"));
  }
  Corrupt("was served bytes other than those asked for (" + std::to_string(r.offset) + "-" +
          std::to_string(r.end() - 1) + ")");
}

// One multi-range GET for `rs`; false (nothing filled) when the server does not serve them.
bool RemoteObject::FetchMulti(const std::vector<ByteRange>& rs, std::vector<std::vector<uint8_t>>* out,
                              const CancelFlag& cancel) {
  std::string header;
  int64_t bytes = 0;
  for (const ByteRange& r : rs) {
    if (!header.empty()) header += ",";
    header += std::to_string(r.offset) + "-" + std::to_string(r.end() - 1);
    bytes += r.length;
  }
  Answer a = Get(header, bytes + 4096 * static_cast<int64_t>(rs.size()) + 65536, cancel);
  // Every requested range must lie inside one part (servers may merge ranges).
  std::vector<std::pair<ByteRange, std::vector<uint8_t>*>> parts;
  for (auto& p : a.parts) {
    int64_t x, y, t;
    if (ParseContentRange(p.contentRange.c_str(), &x, &y, &t) && static_cast<int64_t>(p.data.size()) == y - x + 1) {
      parts.push_back({{x, y - x + 1}, &p.data});
    }
  }
  int64_t x, y, t;
  if (a.parts.empty() && a.status == 206 && ParseContentRange(a.contentRange.c_str(), &x, &y, &t) &&
      static_cast<int64_t>(a.body.size()) == y - x + 1) {
    parts.push_back({{x, y - x + 1}, &a.body});
  }
  if (a.status == 200 && static_cast<int64_t>(a.body.size()) == size_) parts.push_back({{0, size_}, &a.body});
  std::vector<std::vector<uint8_t>> got;
  size_t from = 0;  // parts come in the order asked: start the search where the last one matched
  for (const ByteRange& r : rs) {
    bool found = false;
    for (size_t k = 0; k < parts.size() && !found; ++k) {
      auto& [span, data] = parts[(from + k) % parts.size()];
      if (span.offset > r.offset || span.end() < r.end()) continue;
      if (span.offset == r.offset && span.length == r.length && data->size() == static_cast<size_t>(r.length)) {
        got.push_back(std::move(*data));  // the part is exactly this range
        data->clear();
        span.length = -1;  // used
      } else {
        got.emplace_back(data->begin() + (r.offset - span.offset), data->begin() + (r.end() - span.offset));
      }
      from = (from + k) % parts.size();
      found = true;
    }
    if (!found) return false;
  }
  *out = std::move(got);
  return true;
}

std::vector<uint8_t> RemoteObject::ReadThroughVsi(const ByteRange& r) {
  std::lock_guard<std::mutex> lock(mu_);
  CPLErrorStateBackuper keep;
  CPLErrorHandlerPusher quiet(CPLQuietErrorHandler);
  if (vsi_ == nullptr) {
    vsi_ = VSIFOpenExL(vsiPath_.c_str(), "rb", TRUE);
    if (vsi_ == nullptr) {
      throw CodedError(RemoteErrorInfo("cannot read", name_,
                                       ClassifyRemoteMessage(CPLGetLastErrorMsg(), CPLGetLastErrorNo()),
                                       CPLGetLastErrorMsg()));
    }
    VSIStatBufL st;
    if (VSIStatL(vsiPath_.c_str(), &st) == 0 && static_cast<int64_t>(st.st_size) != size_) {
      Corrupt("measures " + std::to_string(st.st_size) + " bytes on its server, its manifest says " +
              std::to_string(size_));
    }
  }
  std::vector<uint8_t> data(static_cast<size_t>(r.length));
  CPLErrorReset();
  if (VSIFSeekL(vsi_, static_cast<vsi_l_offset>(r.offset), SEEK_SET) != 0 ||
      VSIFReadL(data.data(), 1, data.size(), vsi_) != data.size()) {
    throw CodedError(RemoteErrorInfo(
        "cannot read", name_, ClassifyRemoteMessage(CPLGetLastErrorMsg(), CPLGetLastErrorNo()), CPLGetLastErrorMsg()));
  }
  return data;
}

std::vector<std::vector<uint8_t>> RemoteObject::Fetch(const std::vector<ByteRange>& ranges, const CancelFlag& cancel) {
  for (const ByteRange& r : ranges) {
    if (r.offset < 0 || r.length <= 0 || r.end() > size_) {
      Corrupt("was asked for bytes " + std::to_string(r.offset) + "+" + std::to_string(r.length) + " past its end");
    }
  }
  std::vector<std::vector<uint8_t>> out(ranges.size());
  if (ranges.empty()) return out;
  if (mode_ == Mode::kVsi || (mode_ == Mode::kSigned && Url().empty())) {
    for (size_t i = 0; i < ranges.size(); ++i) {
      ThrowIfCancelled(cancel, name_);
      out[i] = ReadThroughVsi(ranges[i]);
    }
    return out;
  }
  int multi;
  {
    std::lock_guard<std::mutex> lock(mu_);
    multi = multirange_;
  }
  std::vector<size_t> left;  // indexes still to fetch
  if (ranges.size() > 1 && multi != 0) {
    // Groups of ranges, one multi-range GET each, all at once; a group the server does not serve
    // as asked (one range, or the whole object) is fetched range by range below.
    const size_t groups = std::max((ranges.size() + kMaxRangesPerRequest - 1) / kMaxRangesPerRequest,
                                   std::min(kParallelRequests, ranges.size() / 8 + 1));
    const size_t per = (ranges.size() + groups - 1) / groups;
    std::vector<char> served(groups, 0);
    std::vector<std::function<void()>> tasks;
    for (size_t g = 0; g < groups; ++g) {
      tasks.push_back([this, g, per, &ranges, &out, &served, &cancel] {
        const size_t start = g * per, stop = std::min(ranges.size(), start + per);
        if (start >= stop) {
          served[g] = 1;
          return;
        }
        std::vector<ByteRange> group(ranges.begin() + start, ranges.begin() + stop);
        std::vector<std::vector<uint8_t>> got;
        if (!FetchMulti(group, &got, cancel)) return;
        for (size_t i = start; i < stop; ++i) out[i] = std::move(got[i - start]);
        served[g] = 1;
      });
    }
    FetchPool::Get().Run(tasks);
    bool all = true;
    for (size_t g = 0; g < groups; ++g) {
      if (served[g]) continue;
      all = false;
      for (size_t i = g * per; i < std::min(ranges.size(), (g + 1) * per); ++i) left.push_back(i);
    }
    std::lock_guard<std::mutex> lock(mu_);
    multirange_ = all ? 1 : 0;
  } else {
    for (size_t i = 0; i < ranges.size(); ++i) left.push_back(i);
  }
  std::vector<std::function<void()>> tasks;
  for (size_t i : left) tasks.push_back([this, i, &ranges, &out, &cancel] { out[i] = FetchOne(ranges[i], cancel); });
  FetchPool::Get().Run(tasks);
  return out;
}

}  // namespace nds
