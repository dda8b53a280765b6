//! The 19 NIST StRD lower- and average-difficulty problems as powerfit laws.

/// (name, law, variables); parameters are b1..bk in order. Nelson's model is for log(y).
pub const PROBLEMS: &[(&str, &str, &[&str])] = &[
    ("Misra1a", "b1*(1-exp(-b2*x))", &["x"]),
    ("Chwirut2", "exp(-b1*x)/(b2+b3*x)", &["x"]),
    ("Chwirut1", "exp(-b1*x)/(b2+b3*x)", &["x"]),
    (
        "Lanczos3",
        "b1*exp(-b2*x) + b3*exp(-b4*x) + b5*exp(-b6*x)",
        &["x"],
    ),
    (
        "Gauss1",
        "b1*exp(-b2*x) + b3*exp(-(x-b4)**2/b5**2) + b6*exp(-(x-b7)**2/b8**2)",
        &["x"],
    ),
    (
        "Gauss2",
        "b1*exp(-b2*x) + b3*exp(-(x-b4)**2/b5**2) + b6*exp(-(x-b7)**2/b8**2)",
        &["x"],
    ),
    ("DanWood", "b1*x**b2", &["x"]),
    ("Misra1b", "b1 * (1-(1+b2*x/2)**(-2))", &["x"]),
    (
        "Kirby2",
        "(b1 + b2*x + b3*x**2) / (1 + b4*x + b5*x**2)",
        &["x"],
    ),
    (
        "Hahn1",
        "(b1+b2*x+b3*x**2+b4*x**3) / (1+b5*x+b6*x**2+b7*x**3)",
        &["x"],
    ),
    ("Nelson", "b1 - b2*x1 * exp(-b3*x2)", &["x1", "x2"]),
    ("MGH17", "b1 + b2*exp(-x*b4) + b3*exp(-x*b5)", &["x"]),
    (
        "Lanczos1",
        "b1*exp(-b2*x) + b3*exp(-b4*x) + b5*exp(-b6*x)",
        &["x"],
    ),
    (
        "Lanczos2",
        "b1*exp(-b2*x) + b3*exp(-b4*x) + b5*exp(-b6*x)",
        &["x"],
    ),
    (
        "Gauss3",
        "b1*exp(-b2*x) + b3*exp(-(x-b4)**2/b5**2) + b6*exp(-(x-b7)**2/b8**2)",
        &["x"],
    ),
    ("Misra1c", "b1 * (1-(1+2*b2*x)**(-.5))", &["x"]),
    ("Misra1d", "b1*b2*x*((1+b2*x)**(-1))", &["x"]),
    ("Roszman1", "b1 - b2*x - atan(b3/(x-b4))/pi", &["x"]),
    (
        "ENSO",
        "b1 + b2*cos(2*pi*x/12) + b3*sin(2*pi*x/12) + b5*cos(2*pi*x/b4) + b6*sin(2*pi*x/b4) \
         + b8*cos(2*pi*x/b7) + b9*sin(2*pi*x/b7)",
        &["x"],
    ),
];
