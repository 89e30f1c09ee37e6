#include <hlm/core/failure.hpp>
#include <hlm/protocol/result.hpp>
#include <hlm/util/error.hpp>

#include <catch2/catch.hpp>

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

Refusal
refusal(std::string_view text)
{
  try {
    decode_result(text);
  } catch (const NotJson& e) {
    return {Refusal::Kind::not_json, e.what()};
  } catch (const InputError& e) {
    return {Refusal::Kind::input_error, e.what()};
  }
  return {};
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
    ResultDocument{Operation::status, 0, {}, {bare, stub, big}, {}});
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
        == ResultDocument{Operation::recall, 1, warnings, {first, second}, ResultSummary{2, 1, 1}});
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
  const auto document = with_summary(ResultDocument{Operation::migrate, 0, {"w\xfe"}, {line}, {}});
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
  SECTION("any other is refused, naming both")
  {
    check_refused(R"({"version":2,)" + objects,
                  "result document version 2; this hlm reads version 1");
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
    with_summary(ResultDocument{Operation::migrate, 0, {"w"}, {line, line}, {}}));
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
