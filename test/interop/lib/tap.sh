# TAP helpers for the shell tests: source it, print the plan, then call tap or is per test.
n=0
# tap STATUS NAME: "ok" when STATUS is 0.
tap() {
  n=$((n + 1))
  if [[ $1 == 0 ]]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi
}
# is GOT WANT NAME: compares two strings and shows both when they differ.
is() {
  local got=$1 want=$2 name=$3
  if [[ $got == "$want" ]]; then tap 0 "$name"; else
    tap 1 "$name"; printf '#   got:  %s\n#   want: %s\n' "${got//$'\n'/ | }" "${want//$'\n'/ | }"
  fi
}
