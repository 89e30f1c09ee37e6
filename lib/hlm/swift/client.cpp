#include <hlm/swift/client.hpp>
#include <hlm/swift/url.hpp>
#include <hlm/util/error.hpp>
#include <hlm/util/strings.hpp>

#include <fmt/format.h>

#include <utility>

namespace hlm::swift {

namespace {

bool
is_success(int status)
{
  return status >= 200 && status <= 299;
}

std::uint64_t
header_count(const HttpResponse& response, std::string_view name)
{
  const auto value = response.header(name);
  if (!value) {
    return 0;
  }
  const auto parsed = parse_int(trim(*value));
  return parsed && *parsed >= 0 ? static_cast<std::uint64_t>(*parsed) : 0;
}

std::string
unquote(std::string text)
{
  if (text.size() >= 2 && text.front() == '"' && text.back() == '"') {
    return text.substr(1, text.size() - 2);
  }
  return text;
}

std::string
scrub(std::string text, const std::string& secret)
{
  if (secret.empty()) {
    return text;
  }
  for (auto pos = text.find(secret); pos != std::string::npos; pos = text.find(secret, pos)) {
    text.replace(pos, secret.size(), "<redacted>");
  }
  return text;
}

} // namespace

Client::Client(std::unique_ptr<HttpClient> http, AuthOptions auth, ClientOptions options)
  : m_owned_http(std::move(http)),
    m_http(m_owned_http.get()),
    m_auth_options(std::move(auth)),
    m_options(std::move(options))
{
  if (!m_http) {
    throw std::invalid_argument("hlm::swift::Client needs an HttpClient");
  }
}

Client::Client(HttpClient& http, AuthOptions auth, ClientOptions options)
  : m_http(&http),
    m_auth_options(std::move(auth)),
    m_options(std::move(options))
{
}

Client::~Client() = default;
Client::Client(Client&&) noexcept = default;
Client& Client::operator=(Client&&) noexcept = default;

void
Client::authenticate()
{
  m_auth.reset();
  AuthResult result =
    swift::authenticate(*m_http, m_auth_options, m_options.retry, m_options.timeout);
  StorageUrl split = split_storage_url(result.storage_url);
  m_root = std::move(split.root);
  m_account = std::move(split.account);
  m_auth = std::move(result);
}

const AuthResult&
Client::ensure_authenticated()
{
  if (!m_auth) {
    authenticate();
  }
  return *m_auth;
}

const std::string&
Client::storage_url()
{
  return ensure_authenticated().storage_url;
}

const std::string&
Client::account()
{
  ensure_authenticated();
  return m_account;
}

std::string
Client::url_of(const Target& target)
{
  ensure_authenticated();
  std::string root = m_root;
  if (!target.hlm_verb.empty()) {
    root = fmt::format("{}/{}", hlm_interface_url(), target.hlm_verb);
  }
  std::string url = resource_url(root, target.account, target.container, target.object);
  if (!target.query.empty()) {
    url += '?';
    url += target.query;
  }
  return url;
}

HttpResponse
Client::execute(Method method, const Target& target, const Headers& headers, std::string_view body)
{
  // Bad names fail before anything goes on the wire, authentication
  // included.
  resource_url({}, target.account, target.container, target.object);
  bool renewed = false;
  for (;;) {
    HttpRequest request;
    request.method = method;
    request.url = url_of(target);
    request.headers = headers;
    request.headers.emplace_back("X-Auth-Token", m_auth->token);
    request.body = body;
    request.timeout = m_options.timeout;
    HttpResponse response;
    try {
      response = send_with_retry(*m_http, request, m_options.retry);
    } catch (const TransportError& e) {
      throw TransportError(scrub(e.what(), m_auth->token), e.transient());
    }
    // A token given from outside cannot be renewed; an expired one from
    // v1/v3 can, once per request.
    if (response.status == 401 && !renewed && auth_mode(m_auth_options) != AuthMode::token) {
      renewed = true;
      authenticate();
      continue;
    }
    return response;
  }
}

void
Client::fail(Method method, const Target& target, const HttpResponse& response)
{
  const std::string message = fmt::format("{} \"{}\": {}",
                                          to_string(method),
                                          printable(redact_url(url_of(target))),
                                          status_text(response.status));
  throw SwiftError(scrub(message, m_auth ? m_auth->token : std::string()), response.status);
}

std::string
Client::hlm_interface_url()
{
  ensure_authenticated();
  // The root ends in the API version ("/v1"); hlm's interface sits beside it.
  return m_root.substr(0, m_root.rfind('/')) + "/hlm/v1";
}

HttpResponse
Client::hlm_request(Method method,
                    std::string_view verb,
                    std::string_view account,
                    std::string_view container,
                    std::string_view object,
                    const Headers& headers)
{
  return execute(method, Target{account, container, object, {}, verb}, headers);
}

std::optional<AccountInfo>
Client::head_account(std::string_view account)
{
  const Target target{account, {}, {}, {}, {}};
  HttpResponse response = execute(Method::head, target);
  if (response.status == 404) {
    return std::nullopt;
  }
  if (!is_success(response.status)) {
    fail(Method::head, target, response);
  }
  AccountInfo info;
  info.container_count = header_count(response, "X-Account-Container-Count");
  info.object_count = header_count(response, "X-Account-Object-Count");
  info.bytes_used = header_count(response, "X-Account-Bytes-Used");
  info.headers = std::move(response.headers);
  return info;
}

std::optional<ContainerInfo>
Client::head_container(std::string_view account, std::string_view container)
{
  const Target target{account, container, {}, {}, {}};
  HttpResponse response = execute(Method::head, target);
  if (response.status == 404) {
    return std::nullopt;
  }
  if (!is_success(response.status)) {
    fail(Method::head, target, response);
  }
  ContainerInfo info;
  info.object_count = header_count(response, "X-Container-Object-Count");
  info.bytes_used = header_count(response, "X-Container-Bytes-Used");
  info.storage_policy = response.header("X-Storage-Policy").value_or("");
  info.headers = std::move(response.headers);
  return info;
}

std::optional<ObjectInfo>
Client::head_object(std::string_view account, std::string_view container, std::string_view object)
{
  const Target target{account, container, object, {}, {}};
  if (object.empty()) {
    throw InputError("object name is empty");
  }
  HttpResponse response = execute(Method::head, target);
  if (response.status == 404) {
    return std::nullopt;
  }
  if (!is_success(response.status)) {
    fail(Method::head, target, response);
  }
  ObjectInfo info;
  info.etag = unquote(response.header("ETag").value_or(""));
  info.content_length = header_count(response, "Content-Length");
  info.content_type = response.header("Content-Type").value_or("");
  info.headers = std::move(response.headers);
  return info;
}

void
Client::put_container(std::string_view account, std::string_view container, const Headers& headers)
{
  const Target target{account, container, {}, {}, {}};
  if (container.empty()) {
    throw InputError("container name is empty");
  }
  const HttpResponse response = execute(Method::put, target, headers);
  if (!is_success(response.status)) {
    fail(Method::put, target, response);
  }
}

std::string
Client::put_object(std::string_view account,
                   std::string_view container,
                   std::string_view object,
                   std::string_view body,
                   const Headers& headers)
{
  const Target target{account, container, object, {}, {}};
  if (object.empty()) {
    throw InputError("object name is empty");
  }
  const HttpResponse response = execute(Method::put, target, headers, body);
  if (!is_success(response.status)) {
    fail(Method::put, target, response);
  }
  return unquote(response.header("ETag").value_or(""));
}

std::optional<std::string>
Client::get_object(std::string_view account, std::string_view container, std::string_view object)
{
  const Target target{account, container, object, {}, {}};
  if (object.empty()) {
    throw InputError("object name is empty");
  }
  HttpResponse response = execute(Method::get, target);
  if (response.status == 404) {
    return std::nullopt;
  }
  if (!is_success(response.status)) {
    fail(Method::get, target, response);
  }
  return std::move(response.body);
}

bool
Client::delete_resource(const Target& target)
{
  const HttpResponse response = execute(Method::del, target);
  if (response.status == 404) {
    return false;
  }
  if (!is_success(response.status)) {
    fail(Method::del, target, response);
  }
  return true;
}

bool
Client::delete_object(std::string_view account, std::string_view container, std::string_view object)
{
  const Target target{account, container, object, {}, {}};
  if (object.empty()) {
    throw InputError("object name is empty");
  }
  return delete_resource(target);
}

bool
Client::delete_container(std::string_view account, std::string_view container)
{
  const Target target{account, container, {}, {}, {}};
  if (container.empty()) {
    throw InputError("container name is empty");
  }
  return delete_resource(target);
}

void
Client::list_pages(Target target,
                   const ListOptions& options,
                   const std::function<Page(const std::string& body)>& on_page)
{
  if (options.limit < 1 || options.limit > 10'000) {
    throw InputError(fmt::format("listing limit {} is out of range 1 to 10000", options.limit));
  }
  std::string marker = options.marker;
  for (;;) {
    target.query = listing_query(options, marker);
    const HttpResponse response = execute(Method::get, target);
    if (response.status == 204) {
      return;
    }
    if (!is_success(response.status)) {
      fail(Method::get, target, response);
    }
    Page page;
    try {
      page = on_page(response.body);
    } catch (const InputError& e) {
      throw SwiftError(
        fmt::format("GET \"{}\": bad listing: {}", printable(redact_url(url_of(target))), e.what()),
        response.status);
    }
    if (page.stop || page.entries < static_cast<std::size_t>(options.limit)) {
      return;
    }
    marker = std::move(page.last_name);
  }
}

template<typename Entry>
Client::Page
Client::deliver(const std::vector<Entry>& entries,
                const std::function<bool(const Entry&)>& on_entry)
{
  Page page;
  page.entries = entries.size();
  for (const auto& entry : entries) {
    if (!on_entry(entry)) {
      page.stop = true;
      break;
    }
  }
  if (!entries.empty()) {
    page.last_name = entries.back().name;
  }
  return page;
}

void
Client::list_objects(std::string_view account,
                     std::string_view container,
                     const ListOptions& options,
                     const std::function<bool(const ObjectEntry&)>& on_entry)
{
  if (container.empty()) {
    throw InputError("container name is empty");
  }
  list_pages(Target{account, container, {}, {}, {}}, options, [&](const std::string& body) {
    return deliver(parse_object_listing(body), on_entry);
  });
}

void
Client::list_containers(std::string_view account,
                        const ListOptions& options,
                        const std::function<bool(const ContainerEntry&)>& on_entry)
{
  list_pages(Target{account, {}, {}, {}, {}}, options, [&](const std::string& body) {
    return deliver(parse_container_listing(body), on_entry);
  });
}

} // namespace hlm::swift
