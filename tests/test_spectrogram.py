import numpy as np
import pytest

from spectrocam.segments.spectrogram import (
    StftParams,
    band_rows,
    context_frames,
    cut_windows,
    log_power_spectrogram,
)

SR = 22050


def tone(freq_hz: float, seconds: float = 1.0, sr: int = SR) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return 0.5 * np.sin(2 * np.pi * freq_hz * t)


@pytest.mark.parametrize("freq_hz", [440.0, 1000.0, 2500.0, 7000.0])
def test_tone_lands_in_its_row(freq_hz):
    params = StftParams(SR, win_s=0.025, hop_s=0.005, n_fft=1024)
    spec = log_power_spectrogram(tone(freq_hz), params)
    freqs = params.freqs_hz()
    assert spec.shape[0] == len(freqs) == 513
    peak_rows = spec[:, 10:-10].argmax(axis=0)
    hz_per_row = SR / 1024
    assert np.all(np.abs(freqs[peak_rows] - freq_hz) <= hz_per_row / 2)
    # And the peak stands far above the rows a few bins away.
    row = int(np.rint(freq_hz / hz_per_row))
    assert spec[row, 100] - spec[row + 8, 100] > 30


def test_tone_lands_in_its_row_after_band_cut():
    params = StftParams(SR, n_fft=2048)
    freqs = params.freqs_hz()
    rows = band_rows(freqs, 0, 4000)
    assert freqs[rows][0] == 0 and freqs[rows][-1] <= 4000 < freqs[rows.stop]
    spec = log_power_spectrogram(tone(3000.0), params)[rows]
    assert abs(freqs[rows][spec[:, 50].argmax()] - 3000.0) <= SR / 2048 / 2
    high = band_rows(freqs, 1000, 4000)
    assert freqs[high][0] >= 1000 and freqs[high][0] - 1000 < SR / 2048


def test_frame_times_are_exact():
    params = StftParams(SR, hop_s=0.005)
    assert params.hop_samples == 110
    assert params.hop_s_exact == pytest.approx(110 / SR)
    x = np.zeros(SR)
    click_s = 0.4
    x[int(round(click_s * SR))] = 1.0
    spec = log_power_spectrogram(x, params)
    assert spec.shape[1] == 1 + (SR - 1) // 110
    loudest = spec.mean(axis=0).argmax()
    assert abs(loudest * params.hop_s_exact - click_s) <= params.hop_s_exact / 2


def test_windows_are_centred_and_padded():
    params = StftParams(SR, hop_s=0.005)
    x = np.zeros(SR)
    x[int(0.5 * SR)] = 1.0
    spec = log_power_spectrogram(x, params)
    n = context_frames(0.1, params.hop_s_exact)
    assert n % 2 == 1 and n == 21
    windows, centres = cut_windows(spec, np.array([0.5, 0.0, 0.999]), params.hop_s_exact, n, -100)
    assert windows.shape == (3, spec.shape[0], n)
    assert windows[0].mean(axis=0).argmax() == n // 2  # the click sits in the middle frame
    assert centres[0] == pytest.approx(0.5, abs=params.hop_s_exact / 2)
    assert np.all(windows[1][:, : n // 2] == -100)  # before the clip: floor
    assert np.all(windows[2][:, n // 2 + 2 :] == -100)  # after it: floor


def test_floor_and_bad_input():
    params = StftParams(SR, floor_db=-80)
    assert log_power_spectrogram(np.zeros(1000), params).min() == -80
    with pytest.raises(ValueError):
        log_power_spectrogram(np.zeros(0), params)
    with pytest.raises(ValueError):
        log_power_spectrogram(np.zeros(1000), StftParams(SR, n_fft=64))


@pytest.mark.parametrize("window", ["hann", "hamming", "blackman"])
def test_the_spectrogram_is_scipys_short_time_fourier_transform(window):
    """Against scipy.signal.ShortTimeFFT (an independent implementation): a periodic window of
    win_s, frame t centred on sample t * hop, zero-padded beyond the clip, n_fft points, power
    over the window's energy, in dB with the floor."""
    from scipy.signal import ShortTimeFFT, get_window

    params = StftParams(16000, win_s=0.025, hop_s=0.01, n_fft=512, window=window, floor_db=-90)
    rng = np.random.default_rng(0)
    t = np.arange(8000) / 16000
    audio = 0.3 * np.sin(2 * np.pi * 440 * t) + 0.01 * rng.normal(size=t.size)
    audio[6000:] = 0.0  # silence: the floor
    win = get_window(window, params.win_samples, fftbins=True)
    stft = ShortTimeFFT(win, params.hop_samples, 16000, mfft=512, fft_mode="onesided")
    n_frames = 1 + (audio.size - 1) // params.hop_samples
    power = np.abs(stft.stft(audio, p0=0, p1=n_frames)) ** 2 / np.sum(win**2)
    expected = 10 * np.log10(np.maximum(power, 10 ** (-90 / 10)))
    got = log_power_spectrogram(audio, params)
    assert got.shape == expected.shape == (257, 50)
    np.testing.assert_allclose(got, expected, atol=2e-3)
    assert (got[:, -5:] == -90).all()
