#pragma once

#include <hlm/connector/connector.hpp>
#include <hlm/core/failure.hpp>
#include <hlm/core/operation.hpp>
#include <hlm/util/error.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

// The result document hlm-handler answers a request with (hlm-handler(8),
// "Output"): the seed's status shape, extended. hlm-handler writes it with
// the encode_* functions as its results arrive; hlm-dispatch and hlmctl
// status read it with decode_result.
namespace hlm::protocol {

// The newest result document version: 2 (version 3 requests are answered
// by version 2 documents, whose lines may carry "restore_expiry").
inline constexpr int k_result_version = 2;

// What the handler found and did for one replica (or, with no device, for
// an object it found no replica of).
struct ResultLine
{
  std::string object;                // "/account/container/object"
  std::optional<std::string> device; // absent: no local replica was found
  std::string file;                  // the replica's .data file; empty when none
  ObjectState state = ObjectState::unknown;
  std::optional<Failure> failure; // set: this replica failed
  std::optional<std::string> etag;
  std::optional<std::uint64_t> size;
  // The .data file is missing and the backend holds the object and can
  // rebuild it ("stub": "missing").
  bool stub_missing = false;
  // Where the backend holds the replica's copy ("placement": {"library",
  // "volume", "position", "length", "in_drive", "on_disk"}), when the
  // request asked for placements (a version 2 status) and the connector
  // could say; see connector::Placement.
  std::optional<connector::Placement> placement = {};
  // When a restored replica goes back to tape ("restore_expiry": Unix
  // seconds): the expiry a `recall --days` set on it (hlm-handler(8),
  // "Restore expiry"), reported by that recall and by a status of a
  // replica on disk that carries one.
  std::optional<std::int64_t> restore_expiry = {};

  bool operator==(const ResultLine&) const = default;
};

struct ResultSummary
{
  std::size_t objects = 0; // lines
  std::size_t ok = 0;
  std::size_t failed = 0;

  void add(const ResultLine& line);
  bool operator==(const ResultSummary&) const = default;
};

// The answer to an estimate request (Request::estimate): what the node's
// backends expect the operation to cost, summed over them; nullopt when one
// of them cannot estimate ("estimate": null).
struct EstimateAnswer
{
  std::optional<connector::Estimate> estimate;

  bool operator==(const EstimateAnswer&) const = default;
};

struct ResultDocument
{
  Operation operation = Operation::status;
  int storage_policy_index = 0;
  // What keeps migrated replicas safe on the node and is not configured.
  std::vector<std::string> warnings;
  std::vector<ResultLine> lines;
  ResultSummary summary;
  // Version 2: the request's id, echoed; absent in version 1.
  std::optional<std::uint64_t> id;
  // Set when the document answers an estimate request ("estimate").
  std::optional<EstimateAnswer> estimate = {};

  bool operator==(const ResultDocument&) const = default;
};

// The document in three parts, so that lines can be written as they come:
//   encode_result_start:  {"request":op,"version":1,"storage_policy_index":N,
//                          "warnings":[…] (when any),"objects":[
//                          (with an `id`: "version":2,"id":N after "request")
//   encode_result_line:   one line per replica, each on its own text line,
//                          a ',' before every one but the first
//   encode_result_end:    ],"summary":{"objects":N,"ok":N,"failed":N}}\n
// A line's "error" is its failure's message (null on success), with
// "error_kind" and "transient" beside it. Invalid UTF-8 in a text is
// replaced (U+FFFD), never refused.
std::string encode_result_start(Operation operation,
                                int storage_policy_index,
                                std::span<const std::string> warnings,
                                std::optional<std::uint64_t> id = std::nullopt);
std::string encode_result_line(const ResultLine& line, bool first);
// encode_result_line appended to `out` (a buffer a handler reuses).
void append_result_line(std::string& out, const ResultLine& line, bool first);
// With `estimate` (an estimate request's answer), ,"estimate":{...} or
// null follows the summary.
std::string encode_result_end(const ResultSummary& summary,
                              const std::optional<EstimateAnswer>& estimate = std::nullopt);

// The whole document, as the three parts give it.
std::string encode_result(const ResultDocument& document);

// Thrown by decode_result when the text is no JSON at all (empty, or a
// syntax error): a handler that died before answering, rather than one
// that answered something else.
class NotJson : public InputError
{
public:
  using InputError::InputError;
};

// Reads a result document (version 1 or 2). Whitespace between tokens (the handler's
// heartbeat) is allowed. A line's "error" without "error_kind" (an
// hlm-handler older than the kinds) is a transient backend failure; an
// unknown kind is a node failure. Throws hlm::InputError naming what is
// wrong when `text` is not such a document (NotJson when it is not JSON at
// all): nested too deep, not an object, another version, no "objects"
// list, a line that is not an object or lacks a string "object". A line
// whose status is no state is that replica's node failure.
ResultDocument decode_result(std::string_view text);

// Reads result documents from a stream that stays open (a handler
// session), as bytes arrive: each result line is handed over as soon as its
// text is complete, and the end of each document is told, so a round's
// lines are never held whole and the reader knows where one answer ends.
// The checks and messages are decode_result's (a document fed whole or byte
// by byte gives the same lines and head as decode_result, and throws what
// it throws); whitespace before, inside and between documents (the
// heartbeat) is skipped. Like decode_result, a bad line is reported only
// once its document has ended and passed the document's checks; no line is
// handed over after it.
class ResultStreamDecoder
{
public:
  // Everything of a document but its lines; `summary` counts the lines.
  struct End
  {
    Operation operation = Operation::status;
    int storage_policy_index = 0;
    std::optional<std::uint64_t> id;
    std::vector<std::string> warnings;
    ResultSummary summary;
    std::optional<EstimateAnswer> estimate = {};
  };
  using LineSink = std::function<void(ResultLine&& line)>;
  using EndSink = std::function<void(End&& end)>;

  ResultStreamDecoder(LineSink on_line, EndSink on_end);
  ~ResultStreamDecoder();
  ResultStreamDecoder(const ResultStreamDecoder&) = delete;
  ResultStreamDecoder& operator=(const ResultStreamDecoder&) = delete;

  // Reads `chunk`, calling on_line and on_end as lines and documents
  // complete. Throws as decode_result does (NotJson, hlm::InputError); the
  // decoder is unusable after that.
  void feed(std::string_view chunk);
  // True between a document's first byte and its end.
  bool in_document() const noexcept;
  // The input has ended: throws NotJson ("... truncated ...") when a
  // document was begun and not ended. Text that does not start as a JSON
  // object is judged only here, as decode_result judges it, for its end
  // cannot be told before.
  void finish() const;

private:
  class Impl;
  std::unique_ptr<Impl> m_impl;
};

} // namespace hlm::protocol
