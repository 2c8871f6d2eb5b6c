package dev.vxsocks.auth.rules;

import dev.vxsocks.config.CommandName;
import dev.vxsocks.auth.api.AuthorizeRequest;
import dev.vxsocks.auth.api.Verdict;
import dev.vxsocks.config.ProxyConfig;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** Rules are written as JSON (as the configuration file would), so this also covers how they are read. */
class RuleEngineTest {

  private static final String CLIENT = "192.0.2.10";

  /** {@code rules} is the JSON of the {@code rules} section; the proxy listens on port 1080. */
  private static RuleEngine engine(String rules) {
    return new RuleEngine(ProxyConfig.fromJson(new JsonObject(
        "{\"listen\":{\"host\":\"127.0.0.1\",\"port\":1080},\"rules\":" + rules + "}")));
  }

  private static RuleEngine requestRules(String... rules) {
    return engine("{\"request\":[" + String.join(",", rules) + "]}");
  }

  private static AuthorizeRequest to(String address, int port) {
    return new AuthorizeRequest(null, CLIENT, CommandName.CONNECT, null, address, port);
  }

  private static AuthorizeRequest toHost(String host, String address, int port) {
    return new AuthorizeRequest(null, CLIENT, CommandName.CONNECT, host, address, port);
  }

  private static void allowed(Verdict v, String detail) {
    assertThat(v.allowed()).as("%s", v).isTrue();
    assertThat(v.reason()).isEqualTo(Verdict.OK);
    assertThat(v.detail()).isEqualTo(detail);
  }

  private static void denied(Verdict v, String detailStart) {
    assertThat(v.allowed()).as("%s", v).isFalse();
    assertThat(v.reason()).isEqualTo(Verdict.DENIED);
    assertThat(v.detail()).startsWith(detailStart);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Request rules: order, default, each field.

  @Test
  void emptyRequestRulesAllow() {
    RuleEngine e = engine("{}");
    allowed(e.checkRequest(to("93.184.216.34", 443)), "no request rules");
    allowed(e.checkRequest(to("10.1.2.3", 22)), "no request rules");
    allowed(e.checkRequest(to("2001:db8::1", 80)), "no request rules");
    allowed(e.checkRequest(toHost("example.com", null, 80)), "no request rules");
  }

  @Test
  void firstMatchWins() {
    RuleEngine denyFirst = requestRules(
        "{\"action\":\"deny\",\"to\":\"10.0.0.0/8\",\"ports\":\"22\"}",
        "{\"action\":\"allow\",\"to\":\"10.0.0.0/8\"}");
    denied(denyFirst.checkRequest(to("10.1.1.1", 22)), "rules.request[0]");
    allowed(denyFirst.checkRequest(to("10.1.1.1", 80)), "rules.request[1]");

    RuleEngine allowFirst = requestRules(
        "{\"action\":\"allow\",\"to\":\"10.0.0.0/8\"}",
        "{\"action\":\"deny\",\"to\":\"10.0.0.0/8\",\"ports\":\"22\"}");
    allowed(allowFirst.checkRequest(to("10.1.1.1", 22)), "rules.request[0]");
  }

  @Test
  void nonEmptyListDeniesByDefault() {
    RuleEngine e = requestRules("{\"action\":\"allow\",\"to\":\"10.0.0.0/8\"}");
    denied(e.checkRequest(to("11.0.0.1", 80)), "no request rule matched");
    denied(e.checkRequest(to("2001:db8::1", 80)), "no request rule matched");
    denied(e.checkRequest(toHost("example.com", null, 80)), "no request rule matched");
    // A list of deny rules only denies everything.
    RuleEngine denies = requestRules("{\"action\":\"deny\",\"to\":\"10.0.0.0/8\"}");
    denied(denies.checkRequest(to("8.8.8.8", 53)), "no request rule matched");
  }

  @Test
  void users() {
    RuleEngine e = requestRules("{\"action\":\"allow\",\"users\":[\"alice\",\"bob\"]}");
    allowed(e.checkRequest(new AuthorizeRequest("alice", CLIENT, CommandName.CONNECT, null, "8.8.8.8", 53)), "rules.request[0]");
    allowed(e.checkRequest(new AuthorizeRequest("bob", CLIENT, CommandName.CONNECT, null, "8.8.8.8", 53)), "rules.request[0]");
    denied(e.checkRequest(new AuthorizeRequest("carol", CLIENT, CommandName.CONNECT, null, "8.8.8.8", 53)), "no request rule matched");
    denied(e.checkRequest(new AuthorizeRequest("Alice", CLIENT, CommandName.CONNECT, null, "8.8.8.8", 53)), "no request rule matched");
    // Without authentication there is no user, and a rule naming users does not match.
    denied(e.checkRequest(new AuthorizeRequest(null, CLIENT, CommandName.CONNECT, null, "8.8.8.8", 53)), "no request rule matched");
  }

  @Test
  void commands() {
    RuleEngine e = requestRules("{\"action\":\"allow\",\"commands\":[\"connect\",\"UDP-ASSOCIATE\"]}");
    allowed(e.checkRequest(new AuthorizeRequest(null, CLIENT, CommandName.CONNECT, null, "8.8.8.8", 53)), "rules.request[0]");
    allowed(e.checkRequest(new AuthorizeRequest(null, CLIENT, CommandName.UDP_ASSOCIATE, null, "8.8.8.8", 53)), "rules.request[0]");
    denied(e.checkRequest(new AuthorizeRequest(null, CLIENT, CommandName.BIND, null, "8.8.8.8", 53)), "no request rule matched");
  }

  @Test
  void ports() {
    RuleEngine e = requestRules("{\"action\":\"allow\",\"ports\":[\"80\",\"1024-65535\"]}");
    allowed(e.checkRequest(to("8.8.8.8", 80)), "rules.request[0]");
    allowed(e.checkRequest(to("8.8.8.8", 1024)), "rules.request[0]");
    allowed(e.checkRequest(to("8.8.8.8", 65535)), "rules.request[0]");
    denied(e.checkRequest(to("8.8.8.8", 81)), "no request rule matched");
    denied(e.checkRequest(to("8.8.8.8", 1023)), "no request rule matched");
  }

  @Test
  void from() {
    RuleEngine e = requestRules("{\"action\":\"allow\",\"from\":[\"192.0.2.0/24\",\"2001:db8::/32\"]}");
    allowed(e.checkRequest(new AuthorizeRequest(null, "192.0.2.200", CommandName.CONNECT, null, "8.8.8.8", 53)), "rules.request[0]");
    allowed(e.checkRequest(new AuthorizeRequest(null, "2001:db8::5", CommandName.CONNECT, null, "8.8.8.8", 53)), "rules.request[0]");
    denied(e.checkRequest(new AuthorizeRequest(null, "198.51.100.1", CommandName.CONNECT, null, "8.8.8.8", 53)), "no request rule matched");
    denied(e.checkRequest(new AuthorizeRequest(null, "::1", CommandName.CONNECT, null, "8.8.8.8", 53)), "no request rule matched");
  }

  @Test
  void clientMustBeAnAddress() {
    RuleEngine e = engine("{}");
    denied(e.checkRequest(new AuthorizeRequest(null, "localhost", CommandName.CONNECT, null, "8.8.8.8", 53)), "client address");
    denied(e.checkRequest(new AuthorizeRequest(null, null, CommandName.CONNECT, null, "8.8.8.8", 53)), "client address");
  }

  @Test
  void toAddressBlocks() {
    RuleEngine e = requestRules("{\"action\":\"allow\",\"to\":[\"93.184.216.0/24\",\"2001:db8::/32\"]}");
    allowed(e.checkRequest(to("93.184.216.34", 443)), "rules.request[0]");
    allowed(e.checkRequest(to("2001:db8:1::1", 443)), "rules.request[0]");
    // The name is not what an address block is matched against: the resolved address is.
    allowed(e.checkRequest(toHost("example.com", "93.184.216.34", 443)), "rules.request[0]");
    denied(e.checkRequest(toHost("example.com", "93.184.217.34", 443)), "no request rule matched");
    denied(e.checkRequest(toHost("93.184.216.34", null, 443)), "no request rule matched");
  }

  @Test
  void domainSuffixVersusExactHost() {
    RuleEngine e = requestRules(
        "{\"action\":\"allow\",\"to\":\".example.com\",\"ports\":\"443\"}",
        "{\"action\":\"allow\",\"to\":\"api.example.net\"}");
    allowed(e.checkRequest(toHost("example.com", "93.184.216.34", 443)), "rules.request[0]");
    allowed(e.checkRequest(toHost("www.example.com", "93.184.216.34", 443)), "rules.request[0]");
    allowed(e.checkRequest(toHost("a.b.EXAMPLE.com.", "93.184.216.34", 443)), "rules.request[0]");
    denied(e.checkRequest(toHost("badexample.com", "93.184.216.34", 443)), "no request rule matched");
    denied(e.checkRequest(toHost("example.com.evil.net", "93.184.216.34", 443)), "no request rule matched");
    allowed(e.checkRequest(toHost("api.example.net", "198.51.100.7", 80)), "rules.request[1]");
    allowed(e.checkRequest(toHost("API.example.net.", "198.51.100.7", 80)), "rules.request[1]");
    denied(e.checkRequest(toHost("www.api.example.net", "198.51.100.7", 80)), "no request rule matched");
    denied(e.checkRequest(toHost("example.net", "198.51.100.7", 80)), "no request rule matched");
    // A request by address never matches a host pattern.
    denied(e.checkRequest(to("198.51.100.7", 80)), "no request rule matched");
  }

  @Test
  void denyRuleDeniesProtectedAndUnprotected() {
    RuleEngine e = requestRules("{\"action\":\"deny\",\"to\":\"*\"}", "{\"action\":\"allow\"}");
    denied(e.checkRequest(toHost("example.com", "93.184.216.34", 443)), "rules.request[0]");
    allowed(e.checkRequest(to("93.184.216.34", 443)), "rules.request[1]");
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Protected destinations.

  private static final String[] PROTECTED = {
      "127.0.0.1", "127.255.255.254", "::1", "169.254.169.254", "169.254.0.1", "fe80::1", "0.0.0.0", "::",
      "::ffff:127.0.0.1", "::ffff:169.254.169.254", "0:0:0:0:0:ffff:7f00:1"
  };

  @Test
  void protectedDestinationsAreRefusedByCatchAllRules() {
    RuleEngine e = requestRules("{\"action\":\"allow\",\"to\":[\"0.0.0.0/0\",\"::/0\",\"*\"]}");
    for (String a : PROTECTED) {
      Verdict v = e.checkRequest(to(a, 8080));
      assertThat(v.allowed()).as(a).isFalse();
      assertThat(v.reason()).isEqualTo(Verdict.DENIED);
      assertThat(v.detail()).as(a).startsWith("rules.request[0] allows it, but ").contains("loopback/link-local");
    }
    allowed(e.checkRequest(to("8.8.8.8", 53)), "rules.request[0]");
    allowed(e.checkRequest(to("10.0.0.1", 8080)), "rules.request[0]");
    allowed(e.checkRequest(to("2001:db8::1", 8080)), "rules.request[0]");
  }

  @Test
  void protectedDestinationsAreRefusedWithoutRules() {
    RuleEngine e = engine("{}");
    for (String a : PROTECTED) {
      Verdict v = e.checkRequest(to(a, 8080));
      assertThat(v.allowed()).as(a).isFalse();
      assertThat(v.detail()).as(a).startsWith("no request rules allows it, but ");
    }
  }

  @Test
  void aRuleWithoutToDoesNotNameProtectedDestinations() {
    RuleEngine e = requestRules("{\"action\":\"allow\",\"ports\":\"1-65535\"}");
    denied(e.checkRequest(to("127.0.0.1", 8080)), "rules.request[0] allows it, but");
    denied(e.checkRequest(to("169.254.169.254", 80)), "rules.request[0] allows it, but");
  }

  @Test
  void aSuffixDoesNotNameProtectedDestinations() {
    RuleEngine e = requestRules("{\"action\":\"allow\",\"to\":[\".internal\",\"*\"]}");
    denied(e.checkRequest(toHost("metadata.internal", "169.254.169.254", 80)), "rules.request[0] allows it, but");
    denied(e.checkRequest(toHost("localhost", "127.0.0.1", 8080)), "rules.request[0] allows it, but");
  }

  @Test
  void explicitBlocksNameProtectedDestinations() {
    RuleEngine e = requestRules(
        "{\"action\":\"allow\",\"to\":[\"127.0.0.0/8\",\"::1/128\",\"169.254.169.254\"]}");
    allowed(e.checkRequest(to("127.0.0.1", 8080)), "rules.request[0]");
    allowed(e.checkRequest(to("127.1.2.3", 8080)), "rules.request[0]");
    allowed(e.checkRequest(to("::1", 8080)), "rules.request[0]");
    allowed(e.checkRequest(to("169.254.169.254", 80)), "rules.request[0]");
    // ::ffff:127.0.0.1 is the IPv4 address 127.0.0.1, which 127.0.0.0/8 names.
    allowed(e.checkRequest(to("::ffff:127.0.0.1", 8080)), "rules.request[0]");
    // Not named: another link-local address, the unspecified address.
    denied(e.checkRequest(to("169.254.0.1", 80)), "no request rule matched");
    denied(e.checkRequest(to("0.0.0.0", 80)), "no request rule matched");
    denied(e.checkRequest(to("fe80::1", 80)), "no request rule matched");
  }

  @Test
  void ipv6LoopbackBlockDoesNotNameTheIpv4Loopback() {
    RuleEngine e = requestRules("{\"action\":\"allow\",\"to\":[\"::1/128\"]}", "{\"action\":\"allow\",\"to\":\"0.0.0.0/0\"}");
    allowed(e.checkRequest(to("::1", 8080)), "rules.request[0]");
    denied(e.checkRequest(to("127.0.0.1", 8080)), "rules.request[1] allows it, but");
    denied(e.checkRequest(to("::ffff:127.0.0.1", 8080)), "rules.request[1] allows it, but");
  }

  @Test
  void exactHostNamesItsAddresses() {
    RuleEngine e = requestRules("{\"action\":\"allow\",\"to\":[\"localhost\",\"0.0.0.0/0\",\"::/0\"]}");
    allowed(e.checkRequest(toHost("localhost", "127.0.0.1", 8080)), "rules.request[0]");
    allowed(e.checkRequest(toHost("LOCALHOST.", "::1", 8080)), "rules.request[0]");
    // Another name that resolves to loopback matches the rule through 0.0.0.0/0, which does not name it.
    denied(e.checkRequest(toHost("evil.example", "127.0.0.1", 8080)), "rules.request[0] allows it, but");
    // The literal address, sent without a name, is not named by 'localhost' either.
    denied(e.checkRequest(to("127.0.0.1", 8080)), "rules.request[0] allows it, but");
  }

  @Test
  void shippedDefaultRulesKeepLoopbackReachableButNotLinkLocal() {
    RuleEngine e = engine("{\"client\":[{\"action\":\"allow\",\"from\":[\"127.0.0.0/8\",\"::1/128\"]}],"
        + "\"request\":[{\"action\":\"allow\",\"to\":[\"127.0.0.0/8\",\"::1/128\",\"localhost\"]},"
        + "{\"action\":\"allow\",\"to\":[\"0.0.0.0/0\",\"::/0\",\"*\"]}]}");
    allowed(e.checkRequest(to("127.0.0.1", 8080)), "rules.request[0]");
    allowed(e.checkRequest(toHost("localhost", "127.0.0.1", 8080)), "rules.request[0]");
    denied(e.checkRequest(to("169.254.169.254", 80)), "rules.request[1] allows it, but");
    denied(e.checkRequest(to("fe80::1", 80)), "rules.request[1] allows it, but");
    allowed(e.checkRequest(toHost("example.com", "93.184.216.34", 443)), "rules.request[1]");
  }

  // ---------------------------------------------------------------------------------------------------------------
  // The proxy's own port is refused by the connection verticle (it knows the port it bound), not by the rules.

  @Test
  void samePortElsewhereIsJustAPort() {
    RuleEngine e = engine("{}");
    allowed(e.checkRequest(to("10.0.0.1", 1080)), "no request rules");
    allowed(e.checkRequest(to("2001:db8::1", 1080)), "no request rules");
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Client rules.

  @Test
  void emptyClientRulesAllowAnyAddress() {
    RuleEngine e = engine("{}");
    allowed(e.checkClient("203.0.113.9"), "no client rules");
    allowed(e.checkClient("::1"), "no client rules");
  }

  @Test
  void clientRulesFirstMatchAndDefaultDeny() {
    RuleEngine e = engine("{\"client\":["
        + "{\"action\":\"deny\",\"from\":\"10.0.0.5\"},"
        + "{\"action\":\"allow\",\"from\":[\"10.0.0.0/8\",\"::1/128\",\"127.0.0.0/8\"]}]}");
    denied(e.checkClient("10.0.0.5"), "rules.client[0]");
    allowed(e.checkClient("10.0.0.6"), "rules.client[1]");
    allowed(e.checkClient("::1"), "rules.client[1]");
    allowed(e.checkClient("127.0.0.1"), "rules.client[1]");
    allowed(e.checkClient("::ffff:127.0.0.1"), "rules.client[1]");
    denied(e.checkClient("192.0.2.1"), "no client rule matched");
    denied(e.checkClient("2001:db8::1"), "no client rule matched");
  }

  @Test
  void clientThatIsNotAnAddressIsDenied() {
    RuleEngine e = engine("{}");
    denied(e.checkClient("localhost"), "client address 'localhost' is not an IP address");
    denied(e.checkClient("example.com"), "client address");
    denied(e.checkClient(""), "client address");
    denied(e.checkClient(null), "client address");
  }
}
