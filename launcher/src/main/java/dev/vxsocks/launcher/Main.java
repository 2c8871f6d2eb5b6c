package dev.vxsocks.launcher;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParameterException;

import java.io.BufferedReader;
import java.io.Console;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;

/**
 * The command line, on picocli: one class per subcommand ({@link RunCommand}, {@link CheckConfigCommand},
 * {@link HashPasswordCommand}, {@link UserCommand}, {@link ConfigCommand}, {@link StatusCommand},
 * {@link ProbeCommand}), {@code --help} and {@code --version} on each. {@code run} is the default: a command line
 * that starts with an option (or is empty) runs a node.
 *
 * <p>Errors are one line on standard error and a non-zero exit code: 2 for a bad command line or configuration, 1 for
 * anything else. A bad command line adds a pointer to the command's {@code --help} on the same line, never the
 * whole usage; picocli's messages are replaced by ours where we had one ({@link #message}).
 */
public final class Main {

  static {
    // Must precede the first Logger: see ShutdownSafeLogManager.
    if (System.getProperty("java.util.logging.manager") == null) {
      System.setProperty("java.util.logging.manager", ShutdownSafeLogManager.class.getName());
    }
  }

  /** How the program is named in usage lines and hints. */
  static final String PROGRAM = "java -jar vxsocks.jar";
  /** How often {@code run --watch} re-reads the file. */
  static final java.time.Duration FILE_SCAN_PERIOD = java.time.Duration.ofSeconds(1);
  static final String CONFIG_HELP = "YAML configuration (default: $VXSOCKS_CONFIG, else -Dvxsocks.config, else the "
      + "built-in loopback default)";
  static final String CONFIG_HELP_CLUSTER = "YAML configuration whose cluster section (cluster.members) names the "
      + "cluster (default: $VXSOCKS_CONFIG, else -Dvxsocks.config)";
  /** What picocli answers itself at the top level; any other leading option belongs to {@code run}. */
  private static final Set<String> TOP_OPTIONS = Set.of("-h", "--help", "-V", "--version");

  /** Where a command writes: standard output and error, or a test's buffers. */
  record Io(PrintStream out, PrintStream err) {
  }

  private Main() {
  }

  public static void main(String[] args) {
    System.exit(run(args, System.out, System.err));
  }

  static int run(String[] argv, PrintStream out, PrintStream err) {
    List<String> args = new ArrayList<>(Arrays.asList(argv));
    if (args.isEmpty() || args.get(0).startsWith("-") && !TOP_OPTIONS.contains(args.get(0))) {
      args.add(0, "run");
    }
    PrintWriter o = new PrintWriter(new OutputStreamWriter(out, StandardCharsets.UTF_8), true);
    PrintWriter e = new PrintWriter(new OutputStreamWriter(err, StandardCharsets.UTF_8), true);
    try {
      return commandLine(new Io(out, err), o, e).execute(args.toArray(String[]::new));
    } finally {
      o.flush();
      e.flush();
    }
  }

  /** The whole command tree, configured for {@code out} and {@code err}. */
  static CommandLine commandLine(Io io, PrintWriter out, PrintWriter err) {
    CommandLine top = new CommandLine(new Top());
    top.addSubcommand(new RunCommand(io));
    top.addSubcommand(new CheckConfigCommand(io));
    top.addSubcommand(new HashPasswordCommand(io));
    top.addSubcommand("user", UserCommand.commandLine(io));
    top.addSubcommand("config", ConfigCommand.commandLine(io));
    top.addSubcommand(new StatusCommand(io));
    top.addSubcommand(new ProbeCommand(io));
    top.addSubcommand(new CommandLine.HelpCommand());
    // Each setter reaches the subcommands added so far: so last.
    top.setOut(out);
    top.setErr(err);
    top.setColorScheme(CommandLine.Help.defaultColorScheme(CommandLine.Help.Ansi.OFF));
    top.setExpandAtFiles(false); // "@name" is a user name, not a file of arguments
    top.setParameterExceptionHandler((ex, args) -> usageError(ex.getCommandLine(), message(ex)));
    top.setExecutionExceptionHandler((ex, cl, parsed) -> {
      if (ex instanceof UsageException) {
        return usageError(cl, ex.getMessage());
      }
      if (ex instanceof dev.vxsocks.config.ConfigException) {
        cl.getErr().println("vxsocks: config error: " + ex.getMessage());
        return 2;
      }
      cl.getErr().println("vxsocks: " + rootCause(ex));
      return 1;
    });
    headings(top);
    return top;
  }

  private static void headings(CommandLine cl) {
    cl.getCommandSpec().usageMessage().synopsisHeading("usage: ").descriptionHeading("%n")
        .parameterListHeading("%nParameters:%n").optionListHeading("%nOptions:%n").commandListHeading("%nCommands:%n");
    cl.getSubcommands().values().forEach(Main::headings);
  }

  /** One line: what is wrong, and where the help is. Exit code 2. */
  private static int usageError(CommandLine cl, String message) {
    cl.getErr().println("vxsocks: " + message + " (try '" + cl.getCommandSpec().qualifiedName() + " --help')");
    return 2;
  }

  /** Our words for what picocli found wrong (the messages the hand-written parser had), else picocli's. */
  static String message(ParameterException ex) {
    if (ex instanceof CommandLine.UnmatchedArgumentException u && !u.getUnmatched().isEmpty()) {
      String arg = u.getUnmatched().get(0);
      CommandLine where = u.getCommandLine();
      List<String> suggestions = u.getSuggestions();
      String hint = suggestions.isEmpty() ? "" : "; did you mean '" + suggestions.get(0) + "'?";
      if (arg.startsWith("-")) {
        return "unknown option '" + arg + "'" + hint;
      }
      if (!where.getSubcommands().isEmpty()) {
        String parent = where.getParent() == null ? "" : where.getCommandName() + " ";
        return "unknown command '" + parent + arg + "'" + hint;
      }
      return "unexpected argument '" + arg + "'";
    }
    if (ex instanceof CommandLine.MissingParameterException m) {
      for (ArgSpec missing : m.getMissing()) {
        if (missing instanceof OptionSpec option) {
          return option.longestName() + " needs a value";
        }
        String command = ex.getCommandLine().getCommandSpec().qualifiedName().substring(PROGRAM.length()).trim();
        return command + " needs " + missing.paramLabel();
      }
    }
    String text = String.valueOf(ex.getMessage());
    return text.isEmpty() ? text : Character.toLowerCase(text.charAt(0)) + text.substring(1);
  }

  /** {@code --version} of every command: {@link BuildInfo}. */
  public static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {BuildInfo.describe()};
    }
  }

  /** The top of the tree: only its subcommands, {@code --help} and {@code --version}. */
  @Command(name = PROGRAM, mixinStandardHelpOptions = true, versionProvider = Version.class,
      description = "vxsocks, a clustered SOCKS5 proxy. Without a command, or with options only: run.",
      footer = {"", "Settings can be overridden with VXSOCKS_* environment variables or -Dvxsocks.* properties "
          + "(README, \"Configuration reference\"). 'COMMAND --help' says more about each command.",
          "Exit codes: 0 success, 2 a bad command line or configuration, 1 anything else."})
  static final class Top implements Callable<Integer> {
    @Override
    public Integer call() {
      throw new UsageException("a command is needed");
    }
  }

  /** The password from the terminal (asked twice) or one line of stdin; null (after a message) when unusable. */
  static char[] readPassword(PrintStream err) {
    char[] password;
    Console console = System.console();
    if (console != null) {
      password = console.readPassword("password: ");
      char[] again = console.readPassword("again: ");
      if (password == null || again == null || !Arrays.equals(password, again)) {
        err.println("vxsocks: the passwords do not match");
        return null;
      }
    } else {
      try {
        String line = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
        password = line == null ? new char[0] : line.toCharArray();
      } catch (java.io.IOException e) {
        err.println("vxsocks: cannot read the password from stdin: " + e.getMessage());
        return null;
      }
    }
    if (password.length == 0) {
      err.println("vxsocks: the password must not be empty");
      return null;
    }
    if (new String(password).getBytes(StandardCharsets.UTF_8).length > 255) {
      err.println("vxsocks: the password is longer than the 255 bytes RFC 1929 allows");
      return null;
    }
    return password;
  }

  static Path configPath(String option) {
    String p = option != null ? option : System.getenv("VXSOCKS_CONFIG") != null ? System.getenv("VXSOCKS_CONFIG")
        : System.getProperty("vxsocks.config");
    return p == null ? null : Path.of(p);
  }

  static Throwable rootCause(Throwable t) {
    Throwable c = t;
    while (c.getCause() != null && c.getCause() != c) {
      c = c.getCause();
    }
    return c;
  }

  /** A command line we cannot use. */
  static final class UsageException extends RuntimeException {
    UsageException(String message) {
      super(message, null, false, false);
    }
  }
}
