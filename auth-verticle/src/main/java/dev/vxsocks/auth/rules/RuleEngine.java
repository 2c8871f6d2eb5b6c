package dev.vxsocks.auth.rules;

import dev.vxsocks.auth.api.AuthorizeRequest;
import dev.vxsocks.auth.api.Verdict;
import dev.vxsocks.config.Cidr;
import dev.vxsocks.config.HostPattern;
import dev.vxsocks.config.IpLiterals;
import dev.vxsocks.config.ProxyConfig;
import dev.vxsocks.config.ProxyConfig.ClientRule;
import dev.vxsocks.config.ProxyConfig.RequestRule;

import java.net.InetAddress;
import java.util.List;

/**
 * Where every rule is evaluated. Both rule lists are ordered and the first match wins; an empty list allows
 * everything, a non-empty one denies what no rule matched.
 *
 * <p>Safe default (README, "Rules"): loopback, link-local and unspecified destinations, which reach this machine or
 * its cloud metadata service, are refused unless the deciding rule names them explicitly: an address block other
 * than {@code 0.0.0.0/0} / {@code ::/0} that holds the address, or an exact host name. (Requests to the proxy's own
 * listening port are refused before the rules, by the connection verticle, which knows the port it bound.)
 */
public final class RuleEngine {

  private final List<ClientRule> clientRules;
  private final List<RequestRule> requestRules;

  public RuleEngine(ProxyConfig config) {
    this.clientRules = config.rules().client();
    this.requestRules = config.rules().request();
  }

  /** Client rules: may this source address talk to the proxy at all? */
  public Verdict checkClient(String client) {
    InetAddress ip = IpLiterals.parse(client);
    if (ip == null) {
      return Verdict.deny(Verdict.DENIED, "client address '" + client + "' is not an IP address");
    }
    if (clientRules.isEmpty()) {
      return Verdict.allow("no client rules");
    }
    for (ClientRule rule : clientRules) {
      if (Cidr.anyContains(rule.from(), ip)) {
        return rule.allow() ? Verdict.allow(rule.where()) : Verdict.deny(Verdict.DENIED, rule.where());
      }
    }
    return Verdict.deny(Verdict.DENIED, "no client rule matched");
  }

  /** Request rules on a parsed, resolved request. */
  public Verdict checkRequest(AuthorizeRequest request) {
    InetAddress client = IpLiterals.parse(request.client());
    InetAddress address = request.address() == null ? null : IpLiterals.parse(request.address());
    String host = request.host() == null ? null : HostPattern.normalize(request.host());
    if (client == null) {
      return Verdict.deny(Verdict.DENIED, "client address is not an IP address");
    }
    if (requestRules.isEmpty()) {
      return protectedCheck(address, null, host, "no request rules");
    }
    for (RequestRule rule : requestRules) {
      if (matches(rule, request, client, address, host)) {
        if (!rule.allow()) {
          return Verdict.deny(Verdict.DENIED, rule.where());
        }
        return protectedCheck(address, rule, host, rule.where());
      }
    }
    return Verdict.deny(Verdict.DENIED, "no request rule matched");
  }

  private static boolean matches(RequestRule rule, AuthorizeRequest request, InetAddress client, InetAddress address, String host) {
    if (!rule.from().isEmpty() && !Cidr.anyContains(rule.from(), client)) {
      return false;
    }
    if (!rule.users().isEmpty() && (request.user() == null || !rule.users().contains(request.user()))) {
      return false;
    }
    if (!rule.commands().isEmpty() && !rule.commands().contains(request.command())) {
      return false;
    }
    if (!rule.ports().isEmpty() && rule.ports().stream().noneMatch(p -> p.contains(request.port()))) {
      return false;
    }
    if (rule.toAddresses().isEmpty() && rule.toHosts().isEmpty()) {
      return true;
    }
    if (address == null && host == null) {
      // No particular destination (BIND from any peer, a UDP association): only a rule open to every destination.
      return rule.toAddresses().stream().anyMatch(Cidr::isEverything) || rule.toHosts().stream().anyMatch(HostPattern::isAny);
    }
    boolean byAddress = address != null && Cidr.anyContains(rule.toAddresses(), address);
    boolean byHost = host != null && rule.toHosts().stream().anyMatch(h -> h.matches(host));
    return byAddress || byHost;
  }

  private static Verdict protectedCheck(InetAddress address, RequestRule rule, String host, String where) {
    if (address == null || !isProtected(address)) {
      return Verdict.allow(where);
    }
    boolean named = rule != null && (rule.toAddresses().stream().anyMatch(c -> !c.isEverything() && c.contains(address))
        || (host != null && rule.toHosts().stream().anyMatch(h -> h.isExact() && h.matches(host))));
    return named ? Verdict.allow(where)
        : Verdict.deny(Verdict.DENIED, where + " allows it, but " + address.getHostAddress()
            + " is a loopback/link-local address that no rule names explicitly");
  }

  /** AWS's IPv6 instance metadata endpoint; the IPv4 one, 169.254.169.254, is link-local. */
  private static final InetAddress AWS_METADATA_V6 = IpLiterals.parse("fd00:ec2::254");

  /** Addresses that reach this machine, its link or its cloud metadata service. */
  static boolean isProtected(InetAddress a) {
    return a.isLoopbackAddress() || a.isLinkLocalAddress() || a.isAnyLocalAddress() || a.isMulticastAddress()
        || a.equals(AWS_METADATA_V6);
  }
}
