// SPDX-License-Identifier: Apache-2.0
// Animated GIFs (giflib) and frame strips of video samples.
#include "video_output.h"

#include <difflab/base/error.h>
#include <difflab/io/atomic_file.h>
#include <fmt/format.h>
#include <gif_lib.h>

#include <algorithm>
#include <memory>

namespace difflab::plugins {

namespace {

/// giflib's output callback: appends to the std::string in UserData.
int append_bytes(GifFileType* gif, const GifByteType* bytes, int count) {
    static_cast<std::string*>(gif->UserData)
        ->append(reinterpret_cast<const char*>(bytes), static_cast<std::size_t>(count));
    return count;
}

/// giflib's text for an error code (it has none for some codes).
std::string gif_error(int code) {
    const char* text = GifErrorString(code);
    return text ? text : fmt::format("giflib error {}", code);
}

struct gif_closer {
    void operator()(GifFileType* gif) const {
        int ignored = 0;
        EGifCloseFile(gif, &ignored);
    }
};

void check(int status, GifFileType* gif, const char* what) {
    if (status != GIF_OK) throw error(fmt::format("GIF: {} failed: {}", what, gif_error(gif->Error)));
}

}  // namespace

std::string encode_animated_gif(const std::vector<image>& frames, int delay_cs) {
    if (frames.empty()) throw error("GIF: no frames to write; give at least one");
    const image& first = frames.front();
    for (const image& f : frames)
        if (f.width != first.width || f.height != first.height || f.channels != 1)
            throw error(
                fmt::format("GIF: frames must be gray (1 channel) and of one size ({}x{}), got {}x{} with {} "
                            "channels",
                            first.width, first.height, f.width, f.height, f.channels));
    std::string bytes;
    int status = 0;
    std::unique_ptr<GifFileType, gif_closer> gif(EGifOpen(&bytes, append_bytes, &status));
    if (!gif) throw error(fmt::format("GIF: cannot start an encoder: {}", gif_error(status)));
    EGifSetGifVersion(gif.get(), true);  // GIF89a: animation and the loop extension

    // A gray palette: index v is the gray level v, so pixels are written as they are.
    GifColorType colors[256];
    for (int v = 0; v < 256; ++v) colors[v] = GifColorType{GifByteType(v), GifByteType(v), GifByteType(v)};
    std::unique_ptr<ColorMapObject, void (*)(ColorMapObject*)> palette(GifMakeMapObject(256, colors), GifFreeMapObject);
    check(EGifPutScreenDesc(gif.get(), static_cast<int>(first.width), static_cast<int>(first.height), 8, 0,
                            palette.get()),
          gif.get(), "the screen descriptor");
    // NETSCAPE2.0: loop forever (count 0), the extension every browser honours.
    const GifByteType app[] = {'N', 'E', 'T', 'S', 'C', 'A', 'P', 'E', '2', '.', '0'};
    const GifByteType loop[] = {1, 0, 0};
    check(EGifPutExtensionLeader(gif.get(), APPLICATION_EXT_FUNC_CODE), gif.get(), "the loop extension");
    check(EGifPutExtensionBlock(gif.get(), sizeof app, app), gif.get(), "the loop extension");
    check(EGifPutExtensionBlock(gif.get(), sizeof loop, loop), gif.get(), "the loop extension");
    check(EGifPutExtensionTrailer(gif.get()), gif.get(), "the loop extension");

    std::vector<GifPixelType> row(static_cast<std::size_t>(first.width));
    for (const image& f : frames) {
        GraphicsControlBlock control{};
        control.DisposalMode = DISPOSE_DO_NOT;
        control.DelayTime = delay_cs;
        control.TransparentColor = NO_TRANSPARENT_COLOR;
        GifByteType extension[4];
        EGifGCBToExtension(&control, extension);
        check(EGifPutExtension(gif.get(), GRAPHICS_EXT_FUNC_CODE, 4, extension), gif.get(), "a frame delay");
        check(EGifPutImageDesc(gif.get(), 0, 0, static_cast<int>(f.width), static_cast<int>(f.height), false, nullptr),
              gif.get(), "a frame descriptor");
        for (std::int64_t y = 0; y < f.height; ++y) {
            std::copy_n(f.pixels.begin() + y * f.width, f.width, row.begin());
            check(EGifPutLine(gif.get(), row.data(), static_cast<int>(f.width)), gif.get(), "a frame row");
        }
    }
    GifFileType* done = gif.release();
    if (EGifCloseFile(done, &status) != GIF_OK)
        throw error(fmt::format("GIF: finishing the file failed: {}", gif_error(status)));
    return bytes;
}

void write_animated_gif(const std::filesystem::path& path, const std::vector<image>& frames, int delay_cs) {
    write_file_atomically(path, encode_animated_gif(frames, delay_cs));
}

decoded_gif read_animated_gif(const std::filesystem::path& path) {
    int status = 0;
    GifFileType* gif = DGifOpenFileName(path.c_str(), &status);
    if (!gif) throw error(fmt::format("{}: error: cannot read a GIF: {}", path.string(), gif_error(status)));
    const bool read = DGifSlurp(gif) == GIF_OK;
    const std::string why = read ? "" : gif_error(gif->Error);
    decoded_gif out;
    for (int i = 0; read && i < gif->ImageCount; ++i) {
        const SavedImage& saved = gif->SavedImages[i];
        image frame{saved.ImageDesc.Width, saved.ImageDesc.Height, 1,
                    std::vector<std::uint8_t>(saved.RasterBits,
                                              saved.RasterBits + saved.ImageDesc.Width * saved.ImageDesc.Height)};
        out.frames.push_back(std::move(frame));
        GraphicsControlBlock control{};
        out.delays_cs.push_back(DGifSavedExtensionToGCB(gif, i, &control) == GIF_OK ? control.DelayTime : -1);
        for (int e = 0; e < saved.ExtensionBlockCount; ++e)
            if (saved.ExtensionBlocks[e].Function == APPLICATION_EXT_FUNC_CODE &&
                saved.ExtensionBlocks[e].ByteCount == 11 &&
                std::equal(saved.ExtensionBlocks[e].Bytes, saved.ExtensionBlocks[e].Bytes + 11, "NETSCAPE2.0"))
                out.loops = true;
    }
    DGifCloseFile(gif, &status);
    if (!read) throw error(fmt::format("{}: error: a damaged GIF: {}", path.string(), why));
    return out;
}

tensor video_at(const tensor& videos, std::int64_t i) {
    if (videos.dim() != 5 || i < 0 || i >= videos.size(0))
        throw error(fmt::format("video: no video {} in {}; expected [N, C, F, H, W] with i < N", i,
                                shape_text(videos.shape())));
    const shape_t& s = videos.shape();
    return videos.slice(0, i, i + 1).reshape({s[1], s[2], s[3], s[4]});
}

tensor frames_of(const tensor& video) {
    if (video.dim() != 4)
        throw error(fmt::format("video: expected one video [C, F, H, W], got {}", shape_text(video.shape())));
    return video.permute({1, 0, 2, 3}).contiguous();
}

std::vector<image> side_by_side_frames(const tensor& truth, const tensor& sample,
                                       const std::vector<std::int64_t>& given, std::int64_t scale,
                                       std::int64_t padding) {
    if (truth.shape() != sample.shape() || truth.dim() != 4 || truth.size(0) != 1)
        throw error(fmt::format("video: the truth {} and the sample {} must be gray videos [1, F, H, W] of one shape",
                                shape_text(truth.shape()), shape_text(sample.shape())));
    const tensor truth_frames = frames_of(truth), sample_frames = frames_of(sample);
    const std::int64_t frames = truth.size(1), h = truth.size(2) * scale, w = truth.size(3) * scale;
    const std::int64_t width = 2 * w + 3 * padding, height = h + 2 * padding;
    std::vector<image> out;
    for (std::int64_t f = 0; f < frames; ++f) {
        const bool is_given = std::find(given.begin(), given.end(), f) != given.end();
        image frame{width, height, 1,
                    std::vector<std::uint8_t>(static_cast<std::size_t>(width * height),
                                              is_given ? std::uint8_t{128} : std::uint8_t{0})};
        for (int panel = 0; panel < 2; ++panel) {
            const tensor& video = panel == 0 ? truth_frames : sample_frames;
            const image tile = to_image(video.slice(0, f, f + 1).reshape({1, truth.size(2), truth.size(3)}));
            const std::int64_t left = padding + panel * (w + padding);
            for (std::int64_t y = 0; y < h; ++y)
                for (std::int64_t x = 0; x < w; ++x)
                    frame.pixels[static_cast<std::size_t>((padding + y) * width + left + x)] =
                        tile.pixels[static_cast<std::size_t>((y / scale) * tile.width + x / scale)];
        }
        out.push_back(std::move(frame));
    }
    return out;
}

}  // namespace difflab::plugins
