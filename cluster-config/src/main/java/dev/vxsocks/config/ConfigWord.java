package dev.vxsocks.config;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** An enum constant the configuration writes as a word ({@code username-password}, {@code udp-associate}). */
public interface ConfigWord {

  /** The word in the configuration, the rules and the logs: the constant's name in lower case, '-' for '_'. */
  default String configName() {
    return ((Enum<?>) this).name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  /** The constant of {@code type} whose word is {@code word} (exactly), or null. */
  static <E extends Enum<E> & ConfigWord> E byWord(Class<E> type, String word) {
    for (E e : type.getEnumConstants()) {
      if (e.configName().equals(word)) {
        return e;
      }
    }
    return null;
  }

  /** "a, b, c": every word of {@code type}, for error messages. */
  static <E extends Enum<E> & ConfigWord> String known(Class<E> type) {
    return Arrays.stream(type.getEnumConstants()).map(ConfigWord::configName).collect(Collectors.joining(", "));
  }
}
