// Reads lines "<pattern-hex> <input-hex>" and prints 1/0 for RE2::FullMatch (Envoy's options: RE2::Quiet).
#include <re2/re2.h>
#include <iostream>
#include <string>
static std::string unhex(const std::string& h) {
  std::string o;
  for (size_t i = 0; i + 1 < h.size(); i += 2) o.push_back((char)std::stoi(h.substr(i, 2), nullptr, 16));
  return o;
}
int main() {
  std::string p, t;
  while (std::cin >> p >> t) {
    if (t == "-") t = "";
    RE2 re(unhex(p), RE2::Quiet);
    if (!re.ok()) { std::cout << "E\n"; continue; }
    std::cout << (RE2::FullMatch(unhex(t), re) ? "1" : "0") << "\n";
  }
}
