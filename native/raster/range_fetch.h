// RemoteObject: byte ranges of one immutable object on a server, fetched with GDAL's HTTP client
// (CPLHTTPFetchEx: GDAL's proxy, CA and retry settings) and checked. Used by the /vsindspub/
// handler (raster/published_vsi.h) for published cache objects read in place.
//
// - Several ranges are one multi-range GET (multipart/byteranges) on plain http(s) servers that
//   serve them; elsewhere (S3, GS, Azure: presigned URLs from VSIGetSignedURL; a server that
//   answers a multi-range request with one range or the whole object) one GET per range, issued
//   in parallel from a small process-wide pool of fetch threads.
// - Every answer is checked: the size the server reports (Content-Range) must be the expected
//   size, and the ETag must not change between answers (ERR_CACHE_CORRUPT otherwise); an error
//   status is ERR_REMOTE / ERR_SOURCE_MISSING with `status`, a curl timeout or connection failure
//   ERR_REMOTE with `reason` (raster/remote_error.h).
// - Timeouts and retries per request, from GDAL's options for the object's path (path-specific
//   first, then process-wide: GDAL_HTTP_CONNECTTIMEOUT, GDAL_HTTP_TIMEOUT,
//   GDAL_HTTP_LOW_SPEED_TIME/LIMIT, GDAL_HTTP_MAX_RETRY, GDAL_HTTP_RETRY_DELAY).
// - A cancel flag stops requests not yet sent, and a response while it arrives (ERR_ABORTED).
// Objects without a plain or presigned URL (e.g. /vsicurl?... forms) are read through a GDAL VSI
// handle instead (one extra request at open for its size).
// Pure C++: any thread; one object may be fetched from several threads at once.
#pragma once
#include <cpl_vsi.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "raster/remote_cancel.h"

namespace nds {

struct ByteRange {
  int64_t offset = 0;
  int64_t length = 0;
  int64_t end() const { return offset + length; }
};

class RemoteObject {
 public:
  // `vsiPath`: /vsicurl/http(s)://..., /vsis3/..., ...; `name`: the path errors show (the URL as
  // the user gave it); `size`: what the object must measure (-1: unknown, not checked).
  RemoteObject(std::string vsiPath, std::string name, int64_t size);
  ~RemoteObject();
  RemoteObject(const RemoteObject&) = delete;
  RemoteObject& operator=(const RemoteObject&) = delete;

  const std::string& name() const { return name_; }
  int64_t size() const { return size_; }

  // Fetches `ranges` (any order; each within [0, size)), one buffer per range, in order.
  std::vector<std::vector<uint8_t>> Fetch(const std::vector<ByteRange>& ranges, const CancelFlag& cancel);

  // The gap between two ranges below which fetching the bytes between them costs less than
  // another request: small where many ranges go in one request (multi-range), larger where each
  // run of ranges is a request of its own (object stores).
  int64_t MergeGap();

  // True when the object has a plain or presigned URL (Probe and GetAll then ask the server
  // directly; otherwise the caller asks GDAL's VSI layer).
  bool Direct();
  // What the server says of the object, from one GET of its first byte (Content-Range, ETag,
  // Last-Modified). Throws ERR_SOURCE_MISSING (404), ERR_REMOTE.
  struct Facts {
    int64_t size = 0;
    std::string etag, lastModified;
  };
  Facts Probe(const CancelFlag& cancel);
  // The whole object, with one GET; ERR_TOO_LARGE past `maxBytes`.
  std::vector<uint8_t> GetAll(int64_t maxBytes, const CancelFlag& cancel);

 private:
  struct Answer;
  std::string Url();
  Answer Get(const std::string& rangeHeader, int64_t maxBytes, const CancelFlag& cancel);
  void Check(const Answer& a);
  std::vector<uint8_t> FetchOne(const ByteRange& r, const CancelFlag& cancel);
  bool FetchMulti(const std::vector<ByteRange>& rs, std::vector<std::vector<uint8_t>>* out, const CancelFlag& cancel);
  std::vector<uint8_t> ReadThroughVsi(const ByteRange& r);
  [[noreturn]] void Corrupt(const std::string& why) const;

  const std::string vsiPath_, name_;
  const int64_t size_;
  enum class Mode { kHttp, kSigned, kVsi } mode_;
  std::string httpUrl_;  // kHttp
  std::vector<std::string> options_;
  std::mutex mu_;  // guards everything below
  std::string signedUrl_;
  double signedAt_ = 0;
  std::string etag_;
  int multirange_ = -1;      // -1 unknown, 0 no, 1 yes
  VSILFILE* vsi_ = nullptr;  // kVsi: read under mu_
};

}  // namespace nds
