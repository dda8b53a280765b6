//! Losses: the scale the residual is taken on (L or log L) and the function applied to it.
//! Cost = sum_i w_i * rho(r_i), with rho(r) = r^2/2 for least squares (scipy's convention),
//! Huber's rho (r^2/2 inside delta, delta(|r| - delta/2) outside, as scipy.special.huber), or an
//! asymmetric square that weighs over-predictions (r > 0) by a penalty.

use crate::error::{Error, Result};

/// Share of the IRLS curvature kept in Huber's linear region (see `Loss::hess_weight`).
pub(crate) const HUBER_BLEND: f64 = 0.01;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scale {
    Linear,
    Log,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Rho {
    Squared,
    Huber {
        delta: f64,
    },
    /// r^2/2 for r <= 0 (under-prediction), penalty * r^2/2 for r > 0.
    Asymmetric {
        penalty: f64,
    },
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Loss {
    pub scale: Scale,
    pub rho: Rho,
}

impl Loss {
    pub const L2: Loss = Loss {
        scale: Scale::Linear,
        rho: Rho::Squared,
    };
    pub const LOG: Loss = Loss {
        scale: Scale::Log,
        rho: Rho::Squared,
    };
    pub fn huber_log(delta: f64) -> Loss {
        Loss {
            scale: Scale::Log,
            rho: Rho::Huber { delta },
        }
    }

    /// Parses `l2`, `log`, `huber`, `huber_log`, `asymmetric`, `asymmetric_log`.
    pub fn from_name(name: &str, delta: f64, penalty: f64) -> Result<Loss> {
        let (scale, rho) = match name {
            "l2" => (Scale::Linear, Rho::Squared),
            "log" => (Scale::Log, Rho::Squared),
            "huber" => (Scale::Linear, Rho::Huber { delta }),
            "huber_log" => (Scale::Log, Rho::Huber { delta }),
            "asymmetric" => (Scale::Linear, Rho::Asymmetric { penalty }),
            "asymmetric_log" => (Scale::Log, Rho::Asymmetric { penalty }),
            other => {
                return Err(Error::InvalidOption(format!(
                "unknown loss '{other}'; losses are l2, log, huber, huber_log, asymmetric, asymmetric_log"
            )))
            }
        };
        let loss = Loss { scale, rho };
        loss.validate()?;
        Ok(loss)
    }

    pub fn validate(&self) -> Result<()> {
        match self.rho {
            Rho::Huber { delta } if !(delta > 0.0 && delta.is_finite()) => Err(
                Error::InvalidOption(format!("delta must be positive and finite, got {delta}")),
            ),
            Rho::Asymmetric { penalty } if !(penalty > 0.0 && penalty.is_finite()) => {
                Err(Error::InvalidOption(format!(
                    "overestimate_penalty must be positive and finite, got {penalty}"
                )))
            }
            _ => Ok(()),
        }
    }

    /// Whether cost is a sum of squares (so the Gaussian statistics apply).
    pub fn is_least_squares(&self) -> bool {
        matches!(self.rho, Rho::Squared)
    }

    /// rho(r).
    #[inline(always)]
    pub fn rho(&self, r: f64) -> f64 {
        match self.rho {
            Rho::Squared => 0.5 * r * r,
            Rho::Huber { delta } => {
                let a = r.abs();
                if a <= delta {
                    0.5 * r * r
                } else {
                    delta * (a - 0.5 * delta)
                }
            }
            Rho::Asymmetric { penalty } => {
                if r > 0.0 {
                    0.5 * penalty * r * r
                } else {
                    0.5 * r * r
                }
            }
        }
    }

    /// The IRLS weight rho'(r)/r: the Gauss-Newton model of a robust loss (Triggs correction
    /// with rho'' <= 0, as Ceres does for Huber) scales residual and Jacobian rows by its root.
    #[inline(always)]
    pub fn irls_weight(&self, r: f64) -> f64 {
        match self.rho {
            Rho::Squared => 1.0,
            Rho::Huber { delta } => {
                let a = r.abs();
                if a <= delta {
                    1.0
                } else {
                    delta / a
                }
            }
            Rho::Asymmetric { penalty } => {
                if r > 0.0 {
                    penalty
                } else {
                    1.0
                }
            }
        }
    }

    /// Curvature weight of the Gauss-Newton model: psi'(r) blended with the IRLS weight
    /// rho'(r)/r where psi' vanishes (Huber's linear region), so the model keeps some
    /// curvature there without the IRLS model's slow, majorising steps.
    #[inline(always)]
    pub fn hess_weight(&self, r: f64) -> f64 {
        match self.rho {
            Rho::Huber { delta } => {
                let a = r.abs();
                if a <= delta {
                    1.0
                } else {
                    HUBER_BLEND * delta / a
                }
            }
            _ => self.irls_weight(r),
        }
    }

    /// psi(r) = rho'(r) and psi'(r), for the sandwich covariance.
    #[inline(always)]
    pub fn psi(&self, r: f64) -> (f64, f64) {
        match self.rho {
            Rho::Squared => (r, 1.0),
            Rho::Huber { delta } => {
                if r.abs() <= delta {
                    (r, 1.0)
                } else {
                    (delta * r.signum(), 0.0)
                }
            }
            Rho::Asymmetric { penalty } => {
                if r > 0.0 {
                    (penalty * r, penalty)
                } else {
                    (r, 1.0)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huber_matches_scipy_convention() {
        let l = Loss::huber_log(1e-3);
        assert_eq!(l.rho(5e-4), 0.5 * 5e-4 * 5e-4);
        assert!((l.rho(-0.01) - 1e-3 * (0.01 - 0.5e-3)).abs() < 1e-18);
        assert_eq!(l.irls_weight(0.01), 0.1);
    }

    #[test]
    fn names() {
        assert!(Loss::from_name("l3", 1e-3, 1.0).is_err());
        assert!(Loss::from_name("huber_log", -1.0, 1.0).is_err());
        assert_eq!(Loss::from_name("log", 1e-3, 1.0).unwrap(), Loss::LOG);
    }
}
