package dev.vxsocks.proxy.gssapi;

import dev.vxsocks.config.ConfigException;
import dev.vxsocks.config.ProxyConfig;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import org.ietf.jgss.GSSContext;
import org.ietf.jgss.GSSCredential;
import org.ietf.jgss.GSSException;
import org.ietf.jgss.GSSManager;
import org.ietf.jgss.GSSName;
import org.ietf.jgss.Oid;

import javax.security.auth.Subject;
import javax.security.auth.kerberos.KerberosPrincipal;
import javax.security.auth.kerberos.KeyTab;
import java.io.File;
import java.security.PrivilegedExceptionAction;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Logger;

/**
 * The server's side of GSS-API context establishment with the JDK's Kerberos ({@code org.ietf.jgss}): acceptor
 * credentials from {@code auth.gssapi.keytab} (for {@code auth.gssapi.principal}, or any key in the keytab), and the
 * token exchange of each session. Accepting a token decrypts a ticket and checks a replay cache: CPU work, and the
 * JDK's code may block (reading the keytab again after it changed), so it runs on a small pool of this class's own,
 * with a bounded queue, never on an event loop and never on Vert.x's worker pool, where password hashes are verified
 * (docs/ARCHITECTURE.md, "GSS-API"). A full queue refuses the client at once rather than letting logins pile up.
 *
 * <p>One acceptor per keytab and principal for the whole JVM, so that every connection verticle and every session
 * share the credentials; the JDK reads the keytab again when the file changes (key rotation needs no restart).
 */
public final class GssapiAcceptor {

  private static final Logger LOG = Logger.getLogger(GssapiAcceptor.class.getName());
  /** The Kerberos V5 mechanism (RFC 1964). */
  static final Oid KRB5 = oid("1.2.840.113554.1.2.2");
  /** Kerberos principal names ({@code rcmd/proxy.example.com@EXAMPLE.COM}). */
  private static final Oid KRB5_PRINCIPAL_NAME = oid("1.2.840.113554.1.2.2.1");
  static final int THREADS = Math.min(8, Math.max(2, Runtime.getRuntime().availableProcessors() / 2));
  static final int QUEUE = 1024;
  private static final long CREDENTIAL_WARNING_INTERVAL_NANOS = 10_000_000_000L;
  private static final ThreadPoolExecutor POOL = pool();
  private static final Map<String, GssapiAcceptor> ACCEPTORS = new ConcurrentHashMap<>();

  private final String keytab;
  private final String principal;
  private volatile GSSCredential credential;
  private volatile long lastCredentialWarning;

  private GssapiAcceptor(String keytab, String principal) {
    this.keytab = keytab;
    this.principal = principal;
  }

  /** The acceptor for {@code config}'s keytab and principal, shared by every session of the JVM. */
  public static GssapiAcceptor of(ProxyConfig.Gssapi config) {
    String key = config.keytab() + '\u0000' + (config.principal() == null ? "" : config.principal());
    return ACCEPTORS.computeIfAbsent(key, k -> new GssapiAcceptor(config.keytab(), config.principal()));
  }

  /**
   * Start-up check, blocking: the keytab can be read and (with a principal) holds a key for it. Throws a
   * {@link ConfigException} naming the key otherwise.
   */
  public static void check(ProxyConfig.Gssapi config) {
    File file = new File(config.keytab());
    if (!file.canRead()) {
      throw new ConfigException("auth.gssapi.keytab", "cannot read " + config.keytab()
          + (file.exists() ? " (permissions)" : " (no such file)"));
    }
    if (config.principal() != null) {
      KerberosPrincipal p;
      try {
        p = new KerberosPrincipal(config.principal());
      } catch (IllegalArgumentException e) {
        throw new ConfigException("auth.gssapi.principal", "'" + config.principal() + "' is not a Kerberos "
            + "principal name (" + e.getMessage() + ")");
      }
      if (KeyTab.getInstance(p, file).getKeys(p).length == 0) {
        throw new ConfigException("auth.gssapi.keytab", config.keytab() + " holds no key for "
            + p.getName() + " (auth.gssapi.principal)");
      }
    } else if (!KeyTab.getUnboundInstance(file).exists()) {
      throw new ConfigException("auth.gssapi.keytab", config.keytab() + " is not a keytab");
    }
  }

  /** A new context establishment, for one session. */
  public Exchange exchange() {
    return new Exchange();
  }

  /** How many establishment steps wait for a thread now (for tests and the log). */
  static int queued() {
    return POOL.getQueue().size();
  }

  private GSSCredential credential() throws GSSException {
    GSSCredential c = credential;
    if (c != null) {
      return c;
    }
    synchronized (this) {
      if (credential == null) {
        try {
          credential = createCredential();
        } catch (GSSException e) {
          long now = System.nanoTime();
          if (now - lastCredentialWarning > CREDENTIAL_WARNING_INTERVAL_NANOS || lastCredentialWarning == 0) {
            lastCredentialWarning = now;
            LOG.warning("gssapi: no acceptor credentials from " + keytab
                + (principal == null ? "" : " for " + principal) + ": " + describe(e));
          }
          throw e;
        }
      }
      return credential;
    }
  }

  private GSSCredential createCredential() throws GSSException {
    GSSManager manager = GSSManager.getInstance();
    Subject subject = new Subject();
    File file = new File(keytab);
    GSSName name = null;
    if (principal == null) {
      subject.getPrivateCredentials().add(KeyTab.getUnboundInstance(file));
    } else {
      KerberosPrincipal p = new KerberosPrincipal(principal);
      subject.getPrincipals().add(p);
      subject.getPrivateCredentials().add(KeyTab.getInstance(p, file));
      name = manager.createName(p.getName(), KRB5_PRINCIPAL_NAME);
    }
    GSSName serviceName = name;
    try {
      return Subject.doAs(subject, (PrivilegedExceptionAction<GSSCredential>) () ->
          manager.createCredential(serviceName, GSSCredential.INDEFINITE_LIFETIME, KRB5, GSSCredential.ACCEPT_ONLY));
    } catch (java.security.PrivilegedActionException e) {
      if (e.getException() instanceof GSSException g) {
        throw g;
      }
      throw new GSSException(GSSException.FAILURE, -1, String.valueOf(e.getException()));
    }
  }

  /** A GSS-API failure in one line: the major status and the mechanism's detail. */
  static String describe(GSSException e) {
    String minor = e.getMinorString();
    return e.getMajorString() + (minor == null || minor.isEmpty() ? "" : " (" + minor + ")");
  }

  /** What one token gave: the token to send back (null: none), and whether the context is established. */
  public record Step(byte[] token, boolean established) {
  }

  /**
   * One session's context establishment: each step on the pool, its outcome on the session's event loop. The pool
   * touches the context only while a step is in flight; everything else happens on the event loop.
   */
  public final class Exchange {
    // Written by a pool thread during a step, read on the event loop after it: the executor's queue and runOnContext
    // order those accesses.
    private GSSContext context;
    private boolean inFlight;
    private boolean disposed;

    /** Accepts {@code token}; completes on {@code eventLoop}, the caller's context. One step at a time. */
    public Future<Step> step(Context eventLoop, byte[] token) {
      if (inFlight || disposed) {
        return Future.failedFuture(new GssapiFailure(disposed ? "session ended" : "a step is already running"));
      }
      Promise<Step> done = Promise.promise();
      inFlight = true;
      try {
        POOL.execute(() -> {
          Step step = null;
          GssapiFailure failure = null;
          try {
            step = accept(token);
          } catch (GSSException e) {
            failure = new GssapiFailure(describe(e));
          } catch (RuntimeException e) {
            failure = new GssapiFailure("the token could not be read: " + e);
          }
          Step result = step;
          GssapiFailure failed = failure;
          eventLoop.runOnContext(v -> {
            inFlight = false;
            if (disposed) {
              free();
              done.fail(new GssapiFailure("session ended"));
            } else if (failed != null) {
              done.fail(failed);
            } else {
              done.complete(result);
            }
          });
        });
      } catch (RejectedExecutionException full) {
        inFlight = false;
        LOG.warning("gssapi: " + QUEUE + " context establishments already wait for a thread: refusing a client");
        return Future.failedFuture(new GssapiFailure("acceptor busy (" + QUEUE + " waiting)"));
      }
      return done.future();
    }

    private Step accept(byte[] token) throws GSSException {
      if (context == null) {
        context = GSSManager.getInstance().createContext(credential());
      }
      byte[] out = context.acceptSecContext(token, 0, token.length);
      return new Step(out == null || out.length == 0 ? null : out, context.isEstablished());
    }

    /** The established context (after a step said so). */
    public GSSContext context() {
      return context;
    }

    /** Frees the context (now, or when the step in flight is done) unless it was handed on; idempotent. */
    public void dispose() {
      disposed = true;
      if (!inFlight) {
        free();
      }
    }

    /** The context is someone else's now (the protected relay's); {@link #dispose} leaves it alone. */
    public GSSContext handOver() {
      GSSContext c = context;
      context = null;
      disposed = true;
      return c;
    }

    private void free() {
      if (context != null) {
        try {
          context.dispose();
        } catch (GSSException ignored) {
          // nothing left to free
        }
        context = null;
      }
    }
  }

  private static ThreadPoolExecutor pool() {
    AtomicInteger n = new AtomicInteger();
    ThreadPoolExecutor pool = new ThreadPoolExecutor(THREADS, THREADS, 30, TimeUnit.SECONDS,
        new ArrayBlockingQueue<>(QUEUE), r -> {
          Thread t = new Thread(r, "vxsocks-gssapi-" + n.incrementAndGet());
          t.setDaemon(true);
          return t;
        });
    pool.allowCoreThreadTimeOut(true);
    return pool;
  }

  private static Oid oid(String dotted) {
    try {
      return new Oid(dotted);
    } catch (GSSException e) {
      throw new IllegalStateException(e);
    }
  }
}
