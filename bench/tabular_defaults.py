#!/usr/bin/python3
"""backprop at its table defaults against scikit-learn at its defaults on generated raw tables.

Three generated tables (gaps in several NA spellings, text columns, a date column), each split
once per seed into the same train and test files for both. backprop: `backprop train --data
TRAIN --label LABEL` (no other flag) and `backprop eval MODEL --data TEST --json`.
scikit-learn: MLPClassifier / MLPRegressor at their defaults behind a ColumnTransformer of
SimpleImputer(median) + StandardScaler for numbers and SimpleImputer(most_frequent) +
OneHotEncoder(handle_unknown="ignore") for text; the date column is expanded into the same
calendar numbers backprop derives (year, month, day of week, day of year, hour), since
scikit-learn has no date encoder. Prints one Markdown table: accuracy (classification) or R^2
(regression) on the test file, mean of three seeds, and each side's seconds.

Usage: /usr/bin/python3 bench/tabular_defaults.py --cli build/backprop
"""
import argparse
import json
import subprocess
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import ConvergenceWarning
from sklearn.impute import SimpleImputer
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

NA_SPELLINGS = ["", "NA", "N/A", "nan", "null", "?"]


def with_gaps(rng, column, rate):
    out = column.astype(object).copy()
    mask = rng.random(len(out)) < rate
    out[mask] = rng.choice(NA_SPELLINGS, mask.sum())
    return out


def weather(rng, n):
    """Classification: rain tomorrow from humidity, pressure, wind direction, season."""
    day = pd.Timestamp("2015-01-01") + pd.to_timedelta(rng.integers(0, 3 * 365, n), unit="D")
    hour = rng.integers(0, 24, n)
    humidity = rng.uniform(20, 100, n)
    pressure = rng.normal(1013, 8, n)
    wind = rng.choice(["N", "NE", "E", "SE", "S", "SW", "W", "NW"], n)
    wet_wind = np.isin(wind, ["SW", "W", "NW"])
    winter = np.isin(day.month, [11, 12, 1, 2])
    logit = 0.08 * (humidity - 70) - 0.15 * (pressure - 1013) + 1.2 * wet_wind + 0.8 * winter
    rain = np.where(rng.random(n) < 1 / (1 + np.exp(-logit)), "yes", "no")
    stamp = [f"{d.date()}T{h:02d}:00" for d, h in zip(day, hour)]
    return pd.DataFrame({
        "date": with_gaps(rng, pd.Series(stamp), 0.03),
        "humidity": with_gaps(rng, pd.Series(humidity.round(1)), 0.10),
        "pressure": with_gaps(rng, pd.Series(pressure.round(1)), 0.10),
        "wind": with_gaps(rng, pd.Series(wind), 0.05),
        "rain": rain,
    }), "rain", "classification"


def cars(rng, n):
    """Regression: fuel economy from weight, horsepower, cylinders, origin, model year."""
    origin = rng.choice(["USA", "Europe", "Japan"], n, p=[0.6, 0.2, 0.2])
    cylinders = rng.choice([4, 6, 8], n, p=[0.5, 0.25, 0.25])
    weight = 1500 + 400 * cylinders + rng.normal(0, 300, n)
    hp = 20 * cylinders + rng.normal(0, 15, n)
    year = rng.integers(70, 83, n)
    mpg = (60 - 0.006 * weight - 0.05 * hp + 0.6 * (year - 70)
           + np.select([origin == "Japan", origin == "Europe"], [3.0, 1.5], 0.0)
           + rng.normal(0, 2, n))
    return pd.DataFrame({
        "Name": [f"car{i}" for i in range(n)],
        "Weight": with_gaps(rng, pd.Series(weight.round(0)), 0.05),
        "Horsepower": with_gaps(rng, pd.Series(hp.round(0)), 0.08),
        "Cylinders": cylinders,
        "Origin": with_gaps(rng, pd.Series(origin), 0.05),
        "Year": year,
        "Miles_per_Gallon": mpg.round(1),
    }), "Miles_per_Gallon", "regression"


def penguins(rng, n):
    """Classification (3 classes): species from island, sex, bill and flipper sizes."""
    species = rng.choice(["Adelie", "Chinstrap", "Gentoo"], n, p=[0.45, 0.2, 0.35])
    island = np.where(species == "Gentoo", "Biscoe",
                      np.where(species == "Chinstrap", "Dream",
                               rng.choice(["Torgersen", "Biscoe", "Dream"], n)))
    bill = np.select([species == "Adelie", species == "Chinstrap"], [38.8, 48.8], 47.5)
    bill = bill + rng.normal(0, 2.5, n)
    depth = np.where(species == "Gentoo", 15.0, 18.4) + rng.normal(0, 1.1, n)
    flipper = np.select([species == "Adelie", species == "Chinstrap"], [190, 196], 217)
    flipper = flipper + rng.normal(0, 6.5, n)
    sex = rng.choice(["MALE", "FEMALE"], n)
    return pd.DataFrame({
        "island": island,
        "bill_length_mm": with_gaps(rng, pd.Series(bill.round(1)), 0.05),
        "bill_depth_mm": with_gaps(rng, pd.Series(depth.round(1)), 0.05),
        "flipper_length_mm": with_gaps(rng, pd.Series(flipper.round(0)), 0.05),
        "sex": with_gaps(rng, pd.Series(sex), 0.05),
        "species": species,
    }), "species", "classification"


def sklearn_score(train, test, label, task, ignore, seed):
    def prepare(frame):
        x = frame.drop(columns=[label] + ignore).replace(NA_SPELLINGS, np.nan)
        for col in list(x.columns):
            parsed = pd.to_datetime(x[col], errors="coerce", format="ISO8601") \
                if x[col].dtype == object else None
            if parsed is not None and parsed.notna().sum() == x[col].notna().sum() > 0 and \
                    x[col].astype(str).str.match(r"\d{4}-\d{2}-\d{2}").sum() == x[col].notna().sum():
                x[col + ".year"] = parsed.dt.year
                x[col + ".month"] = parsed.dt.month
                x[col + ".dayofweek"] = parsed.dt.dayofweek
                x[col + ".dayofyear"] = parsed.dt.dayofyear
                x[col + ".hour"] = parsed.dt.hour
                x = x.drop(columns=[col])
                continue
            numeric = pd.to_numeric(x[col], errors="coerce")
            if numeric.notna().sum() == x[col].notna().sum():
                x[col] = numeric
        return x

    xtr, xte = prepare(train), prepare(test)
    numbers = [c for c in xtr.columns if xtr[c].dtype != object]
    texts = [c for c in xtr.columns if xtr[c].dtype == object]
    pre = ColumnTransformer([
        ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numbers),
        ("cat", make_pipeline(SimpleImputer(strategy="most_frequent"),
                              OneHotEncoder(handle_unknown="ignore")), texts),
    ])
    model = MLPClassifier(random_state=seed) if task == "classification" \
        else MLPRegressor(random_state=seed)
    ytr, yte = train[label], test[label]
    keep_tr, keep_te = ytr.notna(), yte.notna()
    pipe = make_pipeline(pre, model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pipe.fit(xtr[keep_tr], ytr[keep_tr])
    pred = pipe.predict(xte[keep_te])
    if task == "classification":
        return accuracy_score(yte[keep_te], pred)
    return r2_score(yte[keep_te], pred)


def backprop_score(cli, train_path, test_path, label, task, ignore, seed, workdir):
    model = workdir / "model.safetensors"
    args = [cli, "train", "--data", str(train_path), "--label", label, "--seed", str(seed),
            "-q", "-o", str(model)]
    if ignore:
        args += ["--ignore", ",".join(ignore)]
    subprocess.run(args, check=True)
    out = subprocess.run([cli, "eval", str(model), "--data", str(test_path), "--json"],
                         check=True, capture_output=True, text=True).stdout
    result = json.loads(out)
    return result["accuracy"] if task == "classification" else result["r2"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cli", default="build/backprop")
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for make, ignore in ((weather, []), (cars, ["Name"]), (penguins, [])):
            scores = {"backprop": [], "sklearn": []}
            seconds = {"backprop": 0.0, "sklearn": 0.0}
            for seed in args.seeds:
                rng = np.random.default_rng(1000 + seed)
                frame, label, task = make(rng, args.rows)
                strat = frame[label] if task == "classification" else None
                train, test = train_test_split(frame, test_size=0.25, random_state=seed,
                                               stratify=strat)
                train_path, test_path = work / "train.csv", work / "test.csv"
                train.to_csv(train_path, index=False)
                test.to_csv(test_path, index=False)
                # Both read the same files: scikit-learn through pandas with every spelling kept.
                train_read = pd.read_csv(train_path, keep_default_na=False, dtype=str)
                test_read = pd.read_csv(test_path, keep_default_na=False, dtype=str)
                if task == "regression":
                    train_read[label] = train_read[label].astype(float)
                    test_read[label] = test_read[label].astype(float)
                start = time.perf_counter()
                scores["backprop"].append(backprop_score(args.cli, train_path, test_path, label,
                                                         task, ignore, seed, work))
                seconds["backprop"] += time.perf_counter() - start
                start = time.perf_counter()
                scores["sklearn"].append(sklearn_score(train_read, test_read, label, task, ignore,
                                                       seed))
                seconds["sklearn"] += time.perf_counter() - start
            metric = "accuracy" if task == "classification" else "R^2"
            rows.append((make.__name__, task, metric, np.mean(scores["backprop"]),
                         np.mean(scores["sklearn"]), seconds["backprop"] / len(args.seeds),
                         seconds["sklearn"] / len(args.seeds)))
    print(f"| table ({args.rows} rows) | task | metric | backprop defaults | scikit-learn defaults "
          "| backprop s | scikit-learn s |")
    print("|---|---|---|--:|--:|--:|--:|")
    for name, task, metric, b, s, tb, ts in rows:
        print(f"| {name} | {task} | {metric} | {b:.4f} | {s:.4f} | {tb:.2f} | {ts:.2f} |")


if __name__ == "__main__":
    main()
