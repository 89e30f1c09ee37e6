#include <hlm/core/failure.hpp>
#include <hlm/protocol/result.hpp>
#include <hlm/util/error.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

using namespace hlm;
using namespace hlm::protocol;

namespace {

// What decode_result threw: NotJson is told apart from other InputErrors.
struct Refusal
{
  enum class Kind { none, not_json, input_error } kind = Kind::none;
  std::string message;
};

// The one document of `text` through a ResultStreamDecoder fed `chunk`
// bytes at a time, as decode_result would give it; a second document is
// refused as decode_result refuses it (more than one document).
ResultDocument
stream_decode(std::string_view text, std::size_t chunk)
{
  ResultDocument document;
  bool ended = false;
  const auto check_one = [&] {
    if (ended) {
      throw NotJson("more than one document");
    }
  };
  ResultStreamDecoder decoder(
    [&](ResultLine&& line) {
      check_one();
      document.lines.push_back(std::move(line));
    },
    [&](ResultStreamDecoder::End&& end) {
      check_one();
      ended = true;
      document.operation = end.operation;
      document.storage_policy_index = end.storage_policy_index;
      document.id = end.id;
      document.warnings = std::move(end.warnings);
      document.summary = end.summary;
      document.estimate = end.estimate;
    });
  for (std::size_t i = 0; i < text.size(); i += chunk) {
    decoder.feed(text.substr(i, chunk));
  }
  decoder.finish();
  if (!ended) {
    throw NotJson("no result document");
  }
  return document;
}

template<typename Decode>
Refusal
refusal_of(const Decode& decode)
{
  try {
    decode();
  } catch (const NotJson& e) {
    return {Refusal::Kind::not_json, e.what()};
  } catch (const InputError& e) {
    return {Refusal::Kind::input_error, e.what()};
  }
  return {};
}

// decode_result's refusal of `text`; the stream decoder, fed the text whole
// and byte by byte, refuses it alike (the same kind, and for a refusal
// that is not NotJson the same message when fed whole).
Refusal
refusal(std::string_view text)
{
  const auto refused = refusal_of([&] { decode_result(text); });
  const auto whole = refusal_of([&] { stream_decode(text, text.size() + 1); });
  const auto bytes = refusal_of([&] { stream_decode(text, 1); });
  CHECK(whole.kind == refused.kind);
  CHECK(bytes.kind == refused.kind);
  if (refused.kind == Refusal::Kind::input_error) {
    CHECK(whole.message == refused.message);
    CHECK(bytes.message == refused.message);
  }
  return refused;
}

void
check_not_json(std::string_view text)
{
  INFO("text: \"" << text << '"');
  CHECK(refusal(text).kind == Refusal::Kind::not_json);
}

// Refused as unreadable JSON (not NotJson), with `what` in the message.
void
check_refused(std::string_view text, std::string_view what)
{
  INFO("text: \"" << text << '"');
  const auto refused = refusal(text);
  CHECK(refused.kind == Refusal::Kind::input_error);
  CHECK_THAT(refused.message, Catch::Contains(std::string(what)));
}

// The one line of a document whose objects list is `[line]`.
ResultLine
only_line(const std::string& line)
{
  const auto document = decode_result(R"({"request":"status","objects":[)" + line + "]}");
  REQUIRE(document.lines.size() == 1);
  return document.lines.front();
}

ResultDocument
with_summary(ResultDocument document)
{
  document.summary = {};
  for (const auto& line : document.lines) {
    document.summary.add(line);
  }
  return document;
}

} // namespace

TEST_CASE("result documents round trip: every operation and state", "[protocol]")
{
  for (const auto operation : {Operation::status, Operation::migrate, Operation::recall}) {
    ResultDocument document;
    document.operation = operation;
    document.storage_policy_index = 3;
    document.warnings = {"reads of migrated objects on this node are not guarded", "second"};
    for (const auto state : k_object_states) {
      ResultLine line;
      line.object = "/AUTH_test/c/" + std::string(to_string(state));
      line.device = "sdb1";
      line.file = "/srv/node/sdb1/objects/1/abc/0123/1700000000.00000.data";
      line.state = state;
      line.etag = "d41d8cd98f00b204e9800998ecf8427e";
      line.size = 0;
      document.lines.push_back(line);
    }
    document = with_summary(document);
    INFO(to_string(operation));
    CHECK(decode_result(encode_result(document)) == document);
  }
}

TEST_CASE("result documents round trip: every failure kind, either transience", "[protocol]")
{
  ResultDocument document;
  document.operation = Operation::migrate;
  for (const auto kind : k_failure_kinds) {
    for (const bool transient : {true, false}) {
      ResultLine line;
      line.object = "/a/c/" + std::string(to_string(kind));
      line.device = "sdb2";
      line.state = ObjectState::resident;
      line.failure = Failure{kind, transient, "why: " + std::string(to_string(kind))};
      document.lines.push_back(line);
    }
  }
  document = with_summary(document);
  const auto text = encode_result(document);
  CHECK_THAT(text, Catch::Contains(R"("error_kind":"deleted")"));
  CHECK_THAT(text, Catch::Contains(R"("transient":false)"));
  const auto decoded = decode_result(text);
  CHECK(decoded == document);
  CHECK(decoded.summary.failed == document.lines.size());
}

TEST_CASE("result lines round trip: what is optional", "[protocol]")
{
  ResultLine bare;
  bare.object = "/a/c/no replica";
  bare.failure = make_failure(FailureKind::node,
                              "no primary device of this object is on this node");
  ResultLine stub;
  stub.object = "/a/c/o";
  stub.device = "sdb3";
  stub.state = ObjectState::migrated;
  stub.stub_missing = true;
  ResultLine big;
  big.object = "/a/c/big";
  big.device = "sdb4";
  big.file = "/srv/node/sdb4/x.data";
  big.size = UINT64_MAX;

  const auto document = with_summary(
    ResultDocument{Operation::status, 0, {}, {bare, stub, big}, {}, std::nullopt});
  const auto text = encode_result(document);
  CHECK_THAT(text, !Catch::Contains("warnings"));
  const auto decoded = decode_result(text);
  CHECK(decoded == document);
  CHECK(!decoded.lines[0].device);
  CHECK(decoded.lines[0].file.empty());
  CHECK(decoded.lines[1].stub_missing);
  CHECK(decoded.summary == ResultSummary{3, 2, 1});
}

TEST_CASE("result documents: the parts, heartbeat spaces between them", "[protocol]")
{
  ResultLine first;
  first.object = "/a/c/1";
  first.device = "sdb1";
  first.state = ObjectState::premigrated;
  ResultLine second = first;
  second.object = "/a/c/2";
  second.failure = make_failure(FailureKind::missing, "object is not on this device");
  const std::vector<std::string> warnings = {"w"};
  const std::string text = " \n" + encode_result_start(Operation::recall, 1, warnings) + "  "
                           + encode_result_line(first, true) + " "
                           + encode_result_line(second, false) + "   "
                           + encode_result_end(ResultSummary{2, 1, 1}) + " \n";
  const auto document = decode_result(text);
  CHECK(document
        == ResultDocument{Operation::recall,
                          1,
                          warnings,
                          {first, second},
                          ResultSummary{2, 1, 1},
                          std::nullopt});
  CHECK(encode_result_start(Operation::status, 0, {})
          .starts_with(R"({"request":"status","version":1,)"));
  CHECK(encode_result_line(first, true).starts_with("\n{"));
  CHECK(encode_result_line(first, false).starts_with(",\n{"));
  CHECK(encode_result_end({}).ends_with("}}\n"));
}

TEST_CASE("result texts that are not valid UTF-8 are replaced, not refused", "[protocol]")
{
  ResultLine line;
  line.object = "/a/c/\xff";
  line.failure = make_failure(FailureKind::backend, "tape \xff full");
  const auto document = with_summary(
    ResultDocument{Operation::migrate, 0, {"w\xfe"}, {line}, {}, std::nullopt});
  const auto decoded = decode_result(encode_result(document));
  REQUIRE(decoded.lines.size() == 1);
  CHECK(decoded.lines[0].object == "/a/c/\xef\xbf\xbd");
  REQUIRE(decoded.lines[0].failure);
  CHECK(decoded.lines[0].failure->message == "tape \xef\xbf\xbd full");
  CHECK(decoded.warnings == std::vector<std::string>{"w\xef\xbf\xbd"});
}

TEST_CASE("result documents: the version", "[protocol]")
{
  const auto objects = std::string(R"("objects":[{"object":"/a/c/o","status":"resident"}]})");
  SECTION("absent: version 1, as written before the key")
  {
    const auto document = decode_result(R"({"request":"migrate",)" + objects);
    CHECK(document.operation == Operation::migrate);
    REQUIRE(document.lines.size() == 1);
    CHECK(document.lines[0].state == ObjectState::resident);
  }
  SECTION("1")
  {
    CHECK(decode_result(R"({"version":1,)" + objects).lines.size() == 1);
  }
  SECTION("2, with an id")
  {
    const auto document = decode_result(R"({"version":2,"id":18446744073709551615,)" + objects);
    CHECK(document.id == 18446744073709551615U);
    check_refused(R"({"version":2,)" + objects, "result document version 2 has no \"id\"");
    check_refused(R"({"version":2,"id":-1,)" + objects, "result document version 2 has no");
    check_refused(R"({"version":2,"id":"1",)" + objects, "result document version 2 has no");
    // Version 1 has no id, whatever the document says.
    CHECK(!decode_result(R"({"version":1,"id":5,)" + objects).id);
  }
  SECTION("any other is refused, naming both")
  {
    check_refused(R"({"version":3,)" + objects,
                  "result document version 3; this hlm reads versions 1 to 2");
    for (const char* other :
         {"0", "-1", "1.0", "1.5", R"("1")", "null", "true", "[1]", "18446744073709551615"}) {
      check_refused(std::string(R"({"version":)") + other + "," + objects,
                    "result document version");
    }
  }
}

TEST_CASE("result lines without error_kind: a transient backend failure", "[protocol]")
{
  // What an hlm-handler older than the kinds writes.
  const auto old = only_line(
    R"({"device":"sdb1","error":"backend failed: drive offline","file":null,)"
    R"("object":"/a/c/o","status":"unknown"})");
  REQUIRE(old.failure);
  CHECK(old.failure->kind == FailureKind::backend);
  CHECK(old.failure->transient);
  CHECK(old.failure->message == "backend failed: drive offline");
  CHECK(old.failure->node.empty());

  const auto permanent = only_line(
    R"({"object":"/a/c/o","status":"unknown","error":"x","transient":false})");
  REQUIRE(permanent.failure);
  CHECK(permanent.failure->kind == FailureKind::backend);
  CHECK(!permanent.failure->transient);
}

TEST_CASE("result lines: a kind without transient takes the kind's default", "[protocol]")
{
  for (const auto kind : k_failure_kinds) {
    const auto line = only_line(
      R"({"object":"/a/c/o","status":"unknown","error":"x","error_kind":")"
      + std::string(to_string(kind)) + R"("})");
    INFO(to_string(kind));
    REQUIRE(line.failure);
    CHECK(line.failure->kind == kind);
    CHECK(line.failure->transient == transient_by_default(kind));
  }
}

TEST_CASE("result lines: an unknown error_kind is a node failure", "[protocol]")
{
  const auto line = only_line(
    R"({"object":"/a/c/o","status":"unknown","error":"x","error_kind":"cosmic ray"})");
  REQUIRE(line.failure);
  CHECK(line.failure->kind == FailureKind::node);
  CHECK(line.failure->transient);
  CHECK(line.failure->message == "x");
  const auto permanent = only_line(
    R"({"object":"/a/c/o","status":"unknown","error":"x","error_kind":"cosmic","transient":false})");
  REQUIRE(permanent.failure);
  CHECK(permanent.failure->kind == FailureKind::node);
  CHECK(!permanent.failure->transient);
}

TEST_CASE("result lines: a null error is success, whatever else the line says", "[protocol]")
{
  const auto line = only_line(
    R"({"object":"/a/c/o","status":"migrated","error":null,"error_kind":"backend","transient":false})");
  CHECK(!line.failure);
  CHECK(line.state == ObjectState::migrated);
  CHECK(!only_line(R"({"object":"/a/c/o","status":"resident"})").failure);
}

TEST_CASE("result lines without a valid status: that replica's node failure", "[protocol]")
{
  for (const char* status : {R"(,"status":"frozen")", R"(,"status":3)", R"(,"status":null)", ""}) {
    INFO(status);
    const auto line = only_line(std::string(R"({"object":"/a/c/o")") + status + "}");
    CHECK(line.state == ObjectState::unknown);
    REQUIRE(line.failure);
    CHECK(line.failure->kind == FailureKind::node);
    CHECK(line.failure->transient);
    CHECK_THAT(line.failure->message, Catch::Contains("result line 0 has no valid \"status\""));
  }
  // A line that failed keeps its own failure.
  const auto failed = only_line(
    R"({"object":"/a/c/o","status":"?","error":"gone","error_kind":"deleted"})");
  CHECK(failed.state == ObjectState::unknown);
  REQUIRE(failed.failure);
  CHECK(failed.failure->kind == FailureKind::deleted);
  CHECK(failed.failure->message == "gone");
}

TEST_CASE("result documents: unknown keys and mistyped optional values are ignored", "[protocol]")
{
  const auto document = decode_result(
    R"({"request":"recall","version":1,"future":{"a":[1,{"b":null}]},"storage_policy_index":2,)"
    R"("objects":[{"object":"/a/c/o","status":"premigrated","later":[[[[[[[[]]]]]]]],)"
    R"("device":5,"file":false,"etag":7,"size":-1,"stub":"present"},)"
    R"({"object":"/a/c/p","status":"resident","size":"17","stub":true}],)"
    R"("summary":{"objects":99,"ok":0,"failed":99}})");
  CHECK(document.operation == Operation::recall);
  CHECK(document.storage_policy_index == 2);
  REQUIRE(document.lines.size() == 2);
  const auto& line = document.lines[0];
  CHECK(line.state == ObjectState::premigrated);
  CHECK(!line.failure);
  CHECK(!line.device);
  CHECK(line.file.empty());
  CHECK(!line.etag);
  CHECK(!line.size);
  CHECK(!line.stub_missing);
  CHECK(!document.lines[1].size);
  CHECK(!document.lines[1].stub_missing);
  // The summary is counted from the lines, never taken on trust.
  CHECK(document.summary == ResultSummary{2, 2, 0});
}

TEST_CASE("result documents: no JSON at all is NotJson", "[protocol]")
{
  for (const char* text : {"",
                           " \n \t",
                           "hlm-handler: error: cannot read ring \"object.ring.gz\": bad magic\n",
                           "Traceback (most recent call last):",
                           "{",
                           R"({"objects":[]}})",
                           R"({"objects":[]} {"objects":[]})",
                           "{'objects': []}",
                           R"({"objects":[],})",
                           R"({"objects":[{"object":"/a/c/\ud800"}]})"}) {
    check_not_json(text);
  }
}

TEST_CASE("result documents cut short anywhere are NotJson", "[protocol]")
{
  ResultLine line;
  line.object = "/a/c/o";
  line.device = "sdb1";
  line.failure = make_failure(FailureKind::rejected, "no");
  const auto text = encode_result(
    with_summary(ResultDocument{Operation::migrate, 0, {"w"}, {line, line}, {}, std::nullopt}));
  REQUIRE(text.ends_with("}\n"));
  for (std::size_t cut = 0; cut + 1 < text.size(); ++cut) {
    check_not_json(text.substr(0, cut));
  }
  CHECK_NOTHROW(decode_result(text.substr(0, text.size() - 1)));
}

TEST_CASE("result documents: JSON of the wrong shape names what is wrong", "[protocol]")
{
  for (const char* text : {"[]", "[1,2]", "\"status\"", "42", "null", "true"}) {
    check_refused(text, "result document is not a JSON object");
  }
  check_refused("{}", "no \"objects\" list");
  check_refused(R"({"request":"status","objects":{}})", "no \"objects\" list");
  check_refused(R"({"objects":"x"})", "no \"objects\" list");
  check_refused(R"({"objects":null})", "no \"objects\" list");
  check_refused(R"({"objects":[5]})", "result line 0 is not an object: \"5\"");
  check_refused(R"({"objects":[{"object":"/a/c/o","status":"resident"},[]]})",
                "result line 1 is not an object");
  check_refused(R"({"objects":[{"status":"resident"}]})", "result line 0 has no \"object\"");
  check_refused(R"({"objects":[{"object":5}]})", "result line 0 has no \"object\"");
  check_refused(R"({"objects":[{"object":null}]})", "result line 0 has no \"object\"");
  check_refused(R"({"objects":[{"object":"/a/c/o","status":"unknown","error":5}]})",
                "result line 0 has an \"error\" that is neither null nor a string");
  check_refused(R"({"objects":[{"object":"/a/c/o","error":{"why":"x"}}]})",
                "neither null nor a string");
}

TEST_CASE("result documents nested too deep are refused, not taken for a crash", "[protocol]")
{
  // Version 1 needs 4 levels; 16 are allowed.
  check_refused(std::string(100'000, '[') + std::string(100'000, ']'),
                "nested more than 16 levels deep");
  check_refused(std::string(100'000, '['), "nested more than 16 levels deep");
  // Not JSON before it is too deep: a crash's message, not a deep answer.
  check_not_json("hlm-handler: error: " + std::string(20, '[') + std::string(20, ']'));
  check_not_json("[1,]" + std::string(20, '['));
  check_refused(R"({"objects":[{"object":"/a/c/o","x":)" + std::string(20, '[')
                  + std::string(20, ']') + "}]}",
                "nested more than 16 levels deep");
  std::string deep = R"({"x":)";
  for (int i = 0; i < 30; ++i) {
    deep += R"({"a":)";
  }
  check_refused(deep, "nested more than 16 levels deep");
}

TEST_CASE("brackets and quotes inside strings do not count as nesting", "[protocol]")
{
  ResultDocument document;
  ResultLine line;
  line.object = "/a/c/" + std::string(40, '[') + "\\\"{{{{";
  line.device = "sdb1";
  line.state = ObjectState::unknown;
  line.failure = make_failure(FailureKind::backend, std::string(40, '{') + "\"[[[\\");
  for (int i = 0; i < 50'000; ++i) {
    document.lines.push_back(line);
    document.summary.add(line);
  }
  const auto decoded = decode_result(encode_result(document));
  CHECK(decoded == document);
}

TEST_CASE("a bad result line is reported after the whole document's checks", "[protocol]")
{
  const std::string bad_line = R"([{"object":"/a/c/o","status":"resident"},7])";
  // The document as a whole comes first: its version, then its syntax.
  check_refused(R"({"version":9,"objects":)" + bad_line + "}", "result document version 9");
  check_not_json(R"({"objects":)" + bad_line + R"(,"summary":)");
  // Alone, the bad line is named by its index.
  check_refused(R"({"objects":)" + bad_line + "}", "result line 1 is not an object");
  // A key "objects" deeper down is not the list.
  const auto document = decode_result(
    R"({"summary":{"objects":[1,2]},"objects":[{"object":"/a/c/o","status":"migrated"}]})");
  REQUIRE(document.lines.size() == 1);
  CHECK(document.lines[0].state == ObjectState::migrated);
}

TEST_CASE("result documents with a number beyond a double are refused", "[protocol]")
{
  check_refused(R"({"objects":[],"storage_policy_index":1e999})", "not usable JSON");
}

TEST_CASE("result documents: many lines", "[protocol]")
{
  ResultDocument document;
  for (int i = 0; i < 5000; ++i) {
    ResultLine line;
    line.object = "/a/c/" + std::to_string(i);
    line.device = "sdb" + std::to_string(i % 4);
    line.state = ObjectState::migrated;
    if (i % 7 == 0) {
      line.failure = make_failure(k_failure_kinds[i % 6], "failed " + std::to_string(i));
    }
    document.lines.push_back(std::move(line));
  }
  document = with_summary(document);
  CHECK(decode_result(encode_result(document)) == document);
}

namespace {

ResultDocument
sample_document(std::optional<std::uint64_t> id)
{
  ResultDocument document;
  document.operation = Operation::recall;
  document.storage_policy_index = 2;
  document.warnings = {"reads of migrated objects on this node are not guarded"};
  document.id = id;
  for (int i = 0; i < 20; ++i) {
    ResultLine line;
    line.object = "/a/c/o \"[{,}]\" \\ " + std::to_string(i);
    line.device = "sdb" + std::to_string(i % 3);
    line.file = "/srv/node/sdb1/objects/1/abc/" + std::to_string(i) + ".data";
    line.state = i % 2 ? ObjectState::migrated : ObjectState::premigrated;
    if (i % 5 == 0) {
      line.failure = make_failure(k_failure_kinds[i % 6],
                                  "failed, \"badly\" ]} " + std::to_string(i));
    }
    if (i % 4 == 0) {
      line.etag = "d41d8cd98f00b204e9800998ecf8427e";
      line.size = 1024U * static_cast<unsigned>(i);
    }
    line.stub_missing = i == 3;
    document.lines.push_back(std::move(line));
  }
  return with_summary(document);
}

} // namespace

TEST_CASE("result documents of version 2 round trip with their id", "[protocol]")
{
  for (const std::uint64_t id : {std::uint64_t{0}, std::uint64_t{1}, UINT64_MAX}) {
    const auto document = sample_document(id);
    const auto text = encode_result(document);
    CHECK_THAT(text, Catch::StartsWith(R"({"request":"recall","version":2,"id":)"));
    CHECK(decode_result(text) == document);
    CHECK(stream_decode(text, 1) == document);
  }
  const auto v1 = encode_result(sample_document(std::nullopt));
  CHECK_THAT(v1, Catch::StartsWith(R"({"request":"recall","version":1,"storage_policy_index")"));
  CHECK_THAT(v1, !Catch::Contains(R"("id")"));
}

TEST_CASE("the stream decoder gives what decode_result gives, fed in any pieces", "[protocol]")
{
  const std::vector<std::string> texts = {
    encode_result(sample_document(7)),
    encode_result(sample_document(std::nullopt)),
    encode_result(ResultDocument{}),
    R"({"summary":{"objects":[1,2]},"objects":[{"object":"/a/c/o","status":"migrated"}]})",
    R"({"objects":[{"object":"/a/c/o","status":"x","error":null}],"request":"migrate"})",
  };
  for (const auto& text : texts) {
    INFO(text);
    const auto expected = decode_result(text);
    for (const std::size_t chunk : {std::size_t{1}, std::size_t{2}, std::size_t{7}, text.size()}) {
      INFO("chunk " << chunk);
      CHECK(stream_decode(text, chunk) == expected);
    }
  }
}

TEST_CASE("the stream decoder: heartbeats and documents one after another", "[protocol]")
{
  // A session's output: heartbeat spaces wherever the handler writes them,
  // three answers, each told as it ends.
  std::string text = "  ";
  std::vector<ResultDocument> sent;
  for (std::uint64_t id = 1; id <= 3; ++id) {
    auto document = sample_document(id);
    document.lines.resize(id);
    document = with_summary(document);
    text += encode_result_start(document.operation, 2, document.warnings, id) + " ";
    for (std::size_t i = 0; i < document.lines.size(); ++i) {
      text += "  " + encode_result_line(document.lines[i], i == 0) + " \n ";
    }
    text += encode_result_end(document.summary) + "\n ";
    sent.push_back(std::move(document));
  }
  for (const std::size_t chunk : {std::size_t{1}, std::size_t{5}, text.size()}) {
    std::vector<ResultDocument> got(1);
    std::vector<std::size_t> lines_at_end; // lines handed over before each end
    std::size_t lines = 0;
    ResultStreamDecoder decoder(
      [&](ResultLine&& line) {
        got.back().lines.push_back(std::move(line));
        ++lines;
      },
      [&](ResultStreamDecoder::End&& end) {
        auto& document = got.back();
        document.operation = end.operation;
        document.storage_policy_index = end.storage_policy_index;
        document.id = end.id;
        document.warnings = std::move(end.warnings);
        document.summary = end.summary;
        lines_at_end.push_back(lines);
        got.emplace_back();
      });
    for (std::size_t i = 0; i < text.size(); i += chunk) {
      decoder.feed(std::string_view(text).substr(i, chunk));
    }
    CHECK(!decoder.in_document());
    CHECK_NOTHROW(decoder.finish());
    got.pop_back();
    CHECK(got == sent);
    CHECK(lines_at_end == std::vector<std::size_t>{1, 3, 6});
  }
}

TEST_CASE("the stream decoder hands each line over before the document ends", "[protocol]")
{
  std::vector<std::string> objects;
  bool ended = false;
  ResultStreamDecoder decoder([&](ResultLine&& line) { objects.push_back(line.object); },
                              [&](ResultStreamDecoder::End&&) { ended = true; });
  ResultLine line;
  line.object = "/a/c/1";
  decoder.feed(encode_result_start(Operation::status, 0, {}, 1) + encode_result_line(line, true));
  CHECK(objects.empty()); // a line ends at the ',' or ']' after it
  line.object = "/a/c/2";
  decoder.feed(encode_result_line(line, false));
  CHECK(objects == std::vector<std::string>{"/a/c/1"});
  CHECK(decoder.in_document());
  decoder.feed("]");
  CHECK(objects == std::vector<std::string>{"/a/c/1", "/a/c/2"});
  CHECK(!ended);
  decoder.feed(R"(,"summary":{}})");
  CHECK(ended);
  CHECK(!decoder.in_document());
}

TEST_CASE("the stream decoder: a truncated answer is NotJson at the end of input", "[protocol]")
{
  const auto text = encode_result(sample_document(4));
  for (const std::size_t cut :
       {std::size_t{1}, std::size_t{40}, text.size() / 2, text.size() - 3}) {
    INFO("cut at " << cut);
    bool ended = false;
    ResultStreamDecoder decoder([](ResultLine&&) {},
                                [&](ResultStreamDecoder::End&&) { ended = true; });
    decoder.feed(std::string_view(text).substr(0, cut));
    CHECK(decoder.in_document());
    CHECK(!ended);
    CHECK_THROWS_AS(decoder.finish(), NotJson);
    CHECK_THROWS_WITH(decoder.finish(), Catch::Contains("truncated"));
  }
  ResultStreamDecoder empty([](ResultLine&&) {}, [](ResultStreamDecoder::End&&) {});
  empty.feed("  \n ");
  CHECK_NOTHROW(empty.finish());
}

TEST_CASE("the stream decoder keeps decode_result's nesting limit", "[protocol]")
{
  const std::string deep = R"({"objects":[{"object":"/a/c/o","x":)" + std::string(20, '[')
                           + std::string(20, ']') + "}]}";
  CHECK_THROWS_WITH(stream_decode(deep, 1), "result document is nested more than 16 levels deep");
  CHECK_THROWS_WITH(decode_result(deep), "result document is nested more than 16 levels deep");
}

TEST_CASE("result lines carry a replica's placement when asked", "[protocol][placement]")
{
  ResultDocument document;
  document.operation = Operation::status;
  document.id = 5;
  const auto line = [](std::string object, std::string device, ObjectState state) {
    ResultLine result;
    result.object = std::move(object);
    result.device = device;
    result.file = "/srv/node/" + device + "/x.data";
    result.state = state;
    return result;
  };
  auto placed = line("/a/c/o", "sdb1", ObjectState::migrated);
  placed.placement = hlm::connector::Placement{"T00002", 4096, 1000, true, false, "lib-1"};
  auto on_disk = line("/a/c/p", "sdb2", ObjectState::premigrated);
  on_disk.placement = hlm::connector::Placement{"T00001", UINT64_MAX, 0, false, true, ""};
  const auto unplaced = line("/a/c/q", "sdb3", ObjectState::resident);
  document.lines = {placed, on_disk, unplaced};
  document = with_summary(document);
  const auto text = encode_result(document);
  CHECK_THAT(text,
             Catch::Contains(R"("placement":{"in_drive":true,"length":1000,"library":"lib-1",)"
                             R"("on_disk":false,"position":4096,"volume":"T00002"})"));
  CHECK(decode_result(text) == document);
  CHECK(stream_decode(text, 3) == document);

  // What is not a placement reads as none; the line stands.
  for (const char* bad : {R"(null)",
                          R"("T1")",
                          R"([1])",
                          R"({"position":1,"length":2})",
                          R"({"volume":"T1","position":-1,"length":2})",
                          R"({"volume":"T1","position":1})",
                          R"({"volume":7,"position":1,"length":2})"}) {
    INFO(bad);
    const auto read = decode_result(std::string(R"({"objects":[{"object":"/a/c/o","status":)"
                                                R"("migrated","error":null,"placement":)")
                                    + bad + "}]}");
    REQUIRE(read.lines.size() == 1);
    CHECK(read.lines[0].state == ObjectState::migrated);
    CHECK_FALSE(read.lines[0].placement);
  }
  // Flags and library are optional.
  const auto minimal = decode_result(
    R"({"objects":[{"object":"/a/c/o","status":"migrated","placement":{"volume":"T1",)"
    R"("position":1,"length":2,"in_drive":"yes"}}]})");
  CHECK(minimal.lines[0].placement == hlm::connector::Placement{"T1", 1, 2, false, false, ""});
}

namespace {

// What encode_result_line wrote when it built a json value: the reference
// for the direct writer.
std::string
encoded_through_json(const ResultLine& line, bool first)
{
  nlohmann::json json = {
    {"object", line.object},
    {"device", line.device ? nlohmann::json(*line.device) : nlohmann::json()},
    {"file", line.file.empty() ? nlohmann::json() : nlohmann::json(line.file)},
    {"status", to_string(line.state)},
    {"error", line.failure ? nlohmann::json(line.failure->message) : nlohmann::json()},
  };
  if (line.failure) {
    json["error_kind"] = to_string(line.failure->kind);
    json["transient"] = line.failure->transient;
  }
  if (line.etag) {
    json["etag"] = *line.etag;
  }
  if (line.size) {
    json["size"] = *line.size;
  }
  if (line.stub_missing) {
    json["stub"] = "missing";
  }
  if (line.placement) {
    const auto& p = *line.placement;
    json["placement"] = {{"library", p.library},
                         {"volume", p.volume},
                         {"position", p.position},
                         {"length", p.length},
                         {"in_drive", p.in_drive},
                         {"on_disk", p.on_disk}};
  }
  return (first ? "\n" : ",\n")
         + json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

} // namespace

TEST_CASE("result: a line is written byte for byte as its json value dumps", "[protocol]")
{
  const std::vector<std::string> texts = {
    "/AUTH_test/c/o",
    "",
    "plain ascii with spaces",
    "quote \" and backslash \\",
    "controls \b\f\n\r\t\x01\x1f end",
    "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
    "invalid \xff\xfe utf-8",
    "cut \xe2\x82",
    "del \x7f",
  };
  const std::vector<FailureKind> kinds(std::begin(k_failure_kinds), std::end(k_failure_kinds));
  std::size_t n = 0;
  for (const auto& text : texts) {
    for (int variant = 0; variant < 8; ++variant) {
      ResultLine line;
      line.object = "/a/c/" + text;
      line.state = static_cast<ObjectState>(variant % 4);
      if ((variant & 1) != 0) {
        line.device = "sdb" + text;
        line.file = "/srv/node/" + text + ".data";
        line.etag = text;
        line.size = 1234567890123ULL * static_cast<std::uint64_t>(variant);
      }
      if ((variant & 2) != 0) {
        line.failure = make_failure(kinds[n % kinds.size()], "failed: " + text);
        line.stub_missing = variant > 4;
      }
      if ((variant & 4) != 0) {
        line.placement =
          connector::Placement{text, 7, 4096, variant % 3 == 0, variant % 2 == 0, "lib-" + text};
      }
      for (const bool first : {true, false}) {
        INFO("text " << n << " variant " << variant);
        CHECK(encode_result_line(line, first) == encoded_through_json(line, first));
      }
      ++n;
    }
  }
}

TEST_CASE("result lines carry a replica's restore expiry", "[protocol]")
{
  ResultDocument document;
  document.operation = Operation::recall;
  document.id = 6;
  ResultLine marked;
  marked.object = "/a/c/o";
  marked.device = "sdb1";
  marked.file = "/srv/node/sdb1/x.data";
  marked.state = ObjectState::premigrated;
  marked.restore_expiry = 1'800'000'000;
  ResultLine plain = marked;
  plain.object = "/a/c/p";
  plain.restore_expiry.reset();
  document.lines = {marked, plain};
  document = with_summary(document);
  const auto text = encode_result(document);
  CHECK_THAT(text, Catch::Contains(R"("restore_expiry":1800000000,"status":"premigrated")"));
  // Still a version 2 document: an older dispatcher ignores the key.
  CHECK_THAT(text, Catch::Contains(R"("version":2)"));
  CHECK(decode_result(text) == document);
  CHECK(stream_decode(text, 5) == document);
  // What is not Unix seconds reads as none.
  const auto odd = decode_result(
    R"({"request":"recall","objects":[{"object":"/a/c/o","status":"premigrated",)"
    R"("restore_expiry":"soon"}]})");
  CHECK_FALSE(odd.lines.at(0).restore_expiry);
}

TEST_CASE("an estimate request's answer: the figures, or null", "[protocol]")
{
  ResultDocument document;
  document.operation = Operation::recall;
  document.id = 7;
  ResultLine line;
  line.object = "/a/c/o";
  line.device = "sdb1";
  line.file = "/srv/node/sdb1/x.data";
  line.state = ObjectState::migrated;
  document.lines = {line};
  document = with_summary(document);
  document.estimate = EstimateAnswer{hlm::connector::Estimate{3, 4096, 2, 2, 401.25, 230.5}};
  const auto text = encode_result(document);
  CHECK_THAT(text,
             Catch::Contains(R"("estimate":{"items":3,"bytes":4096,"cartridges":2,"mounts":2,)"
                             R"("drive_seconds":401.25,"wall_seconds":230.5}})"));
  CHECK(decode_result(text) == document);
  CHECK(stream_decode(text, 7) == document);

  document.estimate = EstimateAnswer{};
  const auto unknown = encode_result(document);
  CHECK_THAT(unknown, Catch::Contains(R"("estimate":null})"));
  CHECK(decode_result(unknown) == document);
  // No estimate asked: no key.
  document.estimate.reset();
  CHECK_THAT(encode_result(document), !Catch::Contains("estimate"));
  // Figures that are no estimate read as unknown; the document stands.
  for (const char* bad : {R"({"items":-1,"bytes":0,"cartridges":0,"mounts":0,)"
                          R"("drive_seconds":0,"wall_seconds":0})",
                          R"({"items":1})",
                          R"("soon")",
                          R"({"items":1,"bytes":0,"cartridges":0,"mounts":0,)"
                          R"("drive_seconds":-5,"wall_seconds":0})"}) {
    INFO(bad);
    const auto read = decode_result(R"({"request":"recall","objects":[],"estimate":)"
                                    + std::string(bad) + "}");
    REQUIRE(read.estimate);
    CHECK_FALSE(read.estimate->estimate);
  }
}
